"""Admin SDK Directory ``users.list``, page after page.

``GET {base}/admin/directory/v1/users?customer=my_customer&maxResults=500&orderBy=email`` (or
``domain=`` for one domain of the account) answers ``{"kind": "admin#directory#users", "users":
[...], "nextPageToken": "..."}``; ``users`` is left out of an empty page and ``nextPageToken`` out
of the last. Each page's token comes from the previous page, so pages are read one at a time: the
API offers no way to fetch them concurrently.

Google reports some rate limits as 403 (``userRateLimitExceeded``, ``quotaExceeded``, and
``rateLimitExceeded`` on older endpoints) besides 429. The shared transport treats 403 as a missing
permission, so this module takes 403 answers itself and retries those reasons with the
transport's backoff; any other 403 is a permission failure (e.g. the delegated user is not an
admin, or the token lacks the scope).
"""

from __future__ import annotations

import time
from typing import Iterator

from passport_pipelines.sources.errors import ConnectorError, reason_code
from passport_pipelines.sources.http.transport import HttpTransport, where

USERS_PATH = "/admin/directory/v1/users"
MAX_PAGE_SIZE = 500
RATE_LIMIT_REASONS = frozenset({"userRateLimitExceeded", "rateLimitExceeded", "quotaExceeded"})


def error_reason(body: object) -> str | None:
    """The first ``reason`` of Google's error envelope ``{"error": {"errors": [{"reason": ...}]}}``."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    errors = error.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict) and errors[0].get("reason"):
        return reason_code(errors[0]["reason"])
    status = error.get("status")
    return reason_code(status) if status else None


class DirectoryUsers:
    """Reads the account's users through one transport and auth; counts requests and the 403
    rate-limit retries the transport does not see."""

    def __init__(self, transport: HttpTransport, auth, *, base_url: str, customer: str | None, domain: str | None,
                 sleep=time.sleep):
        self._transport = transport
        self._auth = auth
        self.url = base_url.rstrip("/") + USERS_PATH
        # Google wants one or the other; a domain narrows a multi-domain account to that domain.
        self._scope = {"domain": domain} if domain else {"customer": customer or "my_customer"}
        self._sleep = sleep
        self.requests = 0
        self.retries = 0

    def page(self, max_results: int, page_token: str | None = None) -> dict:
        params = {**self._scope, "maxResults": str(max_results), "orderBy": "email"}
        if page_token:
            params["pageToken"] = page_token
        policy = self._transport.retry
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            self.requests += 1
            response = self._transport.send("GET", self.url, auth=self._auth, params=params,
                                            headers={"Accept": "application/json"}, ok_statuses=frozenset({403}))
            try:
                body = response.json()
            except ValueError:
                detail = f"HTTP {response.status_code}, not JSON"
                raise ConnectorError("bad_response", where(self.url), detail) from None
            if response.status_code != 403:
                if not isinstance(body, dict) or not isinstance(body.get("users", []), list):
                    raise ConnectorError("bad_response", where(self.url), "not a users.list response")
                return body
            reason = error_reason(body)
            if reason not in RATE_LIMIT_REASONS:
                raise ConnectorError("missing_scope", where(self.url), f"HTTP 403, reason {reason or 'unknown'}; "
                                     "delegated_admin must be an admin allowed to read users")
            delay = policy.backoff(attempt, None)
            spent = time.monotonic() - started
            if attempt >= policy.max_attempts or spent + delay > policy.max_total_seconds:
                raise ConnectorError("rate_limited", where(self.url),
                                     f"HTTP 403, reason {reason}; gave up after {attempt} attempt(s) in {spent:.0f}s")
            self.retries += 1
            self._sleep(delay)

    def pages(self, max_results: int = MAX_PAGE_SIZE) -> Iterator[list[dict]]:
        """Every page's users, following ``nextPageToken`` to the end."""
        token: str | None = None
        seen_tokens: set[str] = set()
        while True:
            body = self.page(max_results, token)
            yield body.get("users") or []
            token = body.get("nextPageToken") or None
            if token is None:
                return
            if token in seen_tokens:
                # A server handing back a token it already gave would page forever.
                raise ConnectorError("bad_response", where(self.url), "nextPageToken repeats an earlier page's")
            seen_tokens.add(token)
