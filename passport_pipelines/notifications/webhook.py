"""Webhooks: an HTTP POST of the notification as JSON, signed when the integration gives a secret.

The receiver checks ``X-Passport-Signature: sha256=<hex>``, the HMAC-SHA256 of the exact body bytes
with the shared secret, so it knows the POST came from the hub and was not altered. Errors name the
URL's host only: webhook URLs often carry a token in their path (Slack, Teams), which is as secret as
the signing key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from passport_pipelines.notifications.errors import NotificationError

USER_AGENT = "passport-data-sync"
EVENT_HEADER = "X-Passport-Event"
SIGNATURE_HEADER = "X-Passport-Signature"


@dataclass(frozen=True)
class WebhookSettings:
    """How patient a webhook delivery is: a receiver that is briefly down or restarting (connection
    refused, 5xx, 429) gets ``retries`` more tries, ``backoff_seconds`` apart and growing."""

    timeout_seconds: float = 10.0
    retries: int = 2
    backoff_seconds: float = 1.0


def encode(message: dict) -> bytes:
    """The body, exactly as signed and sent."""
    return json.dumps(message, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signature(body: bytes, secret: str) -> str:
    """``sha256=`` and the hex HMAC-SHA256 of ``body`` keyed with ``secret`` (as GitHub signs hooks)."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def host_of(url: str) -> str:
    """What errors and logs may say about a webhook: its host and port, never its path or query."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)


def post_webhook(url: str, message: dict, *, secret: str | None = None,
                 settings: WebhookSettings = WebhookSettings(), client: httpx.Client | None = None) -> int:
    """POST the message; return the receiver's status code (2xx). Raises NotificationError when the
    receiver refuses it (4xx other than 429, at once) or keeps failing (after the retries)."""
    body = encode(message)
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, EVENT_HEADER: message["event"]}
    if secret is not None:
        headers[SIGNATURE_HEADER] = signature(body, secret)
    host = host_of(url)
    own_client = client is None
    # No redirects: a POST that is redirected would be replayed somewhere the district did not configure.
    client = client or httpx.Client(timeout=settings.timeout_seconds, follow_redirects=False)
    try:
        attempts = settings.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                response = client.post(url, content=body, headers=headers)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {_scrub(str(exc), url, host)}"
            else:
                if response.is_success:
                    return response.status_code
                problem = f"HTTP {response.status_code} {response.reason_phrase}".strip()
                if not _retryable(response.status_code):
                    raise NotificationError(f"webhook {host} refused the notification: {problem}")
            if attempt < attempts:
                time.sleep(settings.backoff_seconds * attempt)
        raise NotificationError(f"webhook {host} failed after {attempts} attempts: {problem}")
    finally:
        if own_client:
            client.close()


def _retryable(status: int) -> bool:
    # 5xx and 429 say "not now"; any other 4xx says "never" (wrong URL, bad signature), so retrying
    # would only delay the error.
    return status >= 500 or status == 429


def _scrub(text: str, url: str, host: str) -> str:
    # httpx rarely puts the URL in a message, but when it does the path must not reach a log.
    return text.replace(url, host) if text else "no answer"
