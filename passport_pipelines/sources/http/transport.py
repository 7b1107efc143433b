"""HTTP with retries: exponential backoff with full jitter on 429, 5xx, connection errors and
timeouts, honouring ``Retry-After``, bounded in attempts and in total time.

Every failure that is not retried, or still fails after the last retry, becomes a
``ConnectorError`` whose kind says what an operator has to fix (see ``sources/errors.py``).
"""

from __future__ import annotations

import random
import ssl
import threading
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Callable, Protocol
from urllib.parse import urlsplit

import httpx

from passport_pipelines.sources.errors import ConnectorError, reason_code

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "passport-data-sync"


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    max_total_seconds: float = 120.0
    base_delay: float = 0.5
    max_delay: float = 30.0

    def backoff(self, retry: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        if retry_after is not None:
            # The server said when; a little jitter keeps parallel workers from returning together.
            return retry_after + random.uniform(0, min(1.0, self.base_delay))
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (retry - 1)))


class Auth(Protocol):
    def apply(self, request: httpx.Request) -> None:
        """Add credentials to an outgoing request."""

    def invalidate(self) -> bool:
        """Forget a cached token after a 401; True when fetching a new one may help."""


def where(url: httpx.URL | str) -> str:
    """host + path of a URL, never its query string (it may hold names or tokens)."""
    parts = urlsplit(str(url))
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _connect_failure(exc: httpx.ConnectError) -> tuple[str, str]:
    chain, cause = [], exc
    while cause is not None:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    text = " ".join(str(c) for c in chain).lower()
    if any(isinstance(c, ssl.SSLError) for c in chain) or "certificate" in text or "ssl" in text:
        return "tls", "certificate verify failed" if "verif" in text else "TLS handshake failed"
    if "name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text \
            or "temporary failure in name resolution" in text or "no address associated" in text:
        return "unresolvable_host", "DNS lookup failed"
    if "refused" in text:
        return "connection_refused", "connection refused"
    return "connection_refused", type(exc).__name__


def _error_detail(response: httpx.Response) -> str:
    """The status and, from a documented error body, its code (``reason_code``); never the body's
    free text."""
    detail = f"HTTP {response.status_code}"
    try:
        body = response.json()
    except ValueError:
        return detail
    if not isinstance(body, dict):
        return detail
    # OneRoster: imsx_codeMinor (sometimes inside imsx_statusInfo); OAuth: error; others: code.
    status_info = body.get("imsx_statusInfo") if isinstance(body.get("imsx_statusInfo"), dict) else {}
    for key in ("imsx_codeMinor", "error", "errorCode", "code"):
        value = body.get(key, status_info.get(key))
        if isinstance(value, dict):
            value = value.get("imsx_codeMinorField") or value.get("imsx_codeMinorFieldValue") or value.get("value")
        if isinstance(value, list) and value and isinstance(value[0], dict):
            value = value[0].get("imsx_codeMinorFieldValue")
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            return f"{detail}, {key} {reason_code(value)}"
    return detail


class HttpTransport:
    """One pooled, thread-safe HTTP client with the retry policy; auth is added per request."""

    def __init__(self, *, timeout: float = 30.0, ca_bundle: Path | None = None, retry: RetryPolicy | None = None,
                 max_connections: int = 8, sleep: Callable[[float], None] = time.sleep):
        verify: bool | ssl.SSLContext = True
        if ca_bundle is not None:
            verify = ssl.create_default_context(cafile=str(ca_bundle))
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout), verify=verify, follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        )
        self.retries = 0  # counted across threads, for run metadata
        self._lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "HttpTransport":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def send(self, method: str, url: str, *, auth: Auth | None = None, params=None, headers=None, data=None,
             json=None, ok_statuses: frozenset[int] = frozenset()) -> httpx.Response:
        """Send with retries. Returns a 2xx response (or one in ``ok_statuses``); raises ConnectorError."""
        started = time.monotonic()
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            request = self._client.build_request(method, url, params=params, headers=headers, data=data, json=json)
            if auth is not None:
                auth.apply(request)
            retry_after = None
            try:
                response = self._client.send(request)
            except httpx.TimeoutException:
                failure: tuple[str, str] = ("timeout", f"no answer within {self._client.timeout.read}s")
            except httpx.ConnectError as exc:
                failure = _connect_failure(exc)
                if failure[0] in ("tls", "unresolvable_host"):
                    raise ConnectorError(failure[0], where(request.url), failure[1]) from None  # type: ignore[arg-type]
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                failure = ("server_error", f"connection dropped ({type(exc).__name__})")
            else:
                status = response.status_code
                if 200 <= status < 300 or status in ok_statuses:
                    return response
                response.read()
                if status == 401 and auth is not None and not refreshed and auth.invalidate():
                    refreshed = True  # an expired token: fetch a new one once, right away
                    attempt -= 1
                    continue
                if status in RETRY_STATUS:
                    retry_after = _retry_after(response)
                    failure = ("rate_limited" if status == 429 else "server_error", _error_detail(response))
                else:
                    kind = {401: "bad_credentials", 403: "missing_scope", 404: "not_found"}.get(status, "bad_response")
                    raise ConnectorError(kind, where(request.url), _error_detail(response))  # type: ignore[arg-type]
            delay = self.retry.backoff(attempt, retry_after)
            spent = time.monotonic() - started
            if attempt >= self.retry.max_attempts or spent + delay > self.retry.max_total_seconds:
                detail = f"{failure[1]}; gave up after {attempt} attempt(s) in {spent:.0f}s"
                raise ConnectorError(failure[0], where(request.url), detail)  # type: ignore[arg-type]
            with self._lock:
                self.retries += 1
            self._sleep(delay)
