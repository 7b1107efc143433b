"""OAuth 2.0 bearer tokens: client credentials (RFC 6749 §4.4) and the password grant, cached
until shortly before they expire and fetched again when the API answers 401."""

from __future__ import annotations

import threading
import time
from typing import Callable

import httpx

from passport_pipelines.config.secrets import remember_secret
from passport_pipelines.sources.errors import ConnectorError, reason_code
from passport_pipelines.sources.http.transport import HttpTransport, where

EXPIRY_MARGIN_SECONDS = 30


class BearerToken:
    """A token from ``token_url``; ``credentials_in`` says whether the client id and secret go in
    an HTTP Basic header (RFC 6749's preference, and PowerSchool's only way) or the form body."""

    def __init__(self, transport: HttpTransport, token_url: str, client_id: str | None, client_secret: str | None, *,
                 scopes: list[str] | tuple[str, ...] = (), grant: dict[str, str] | None = None,
                 credentials_in: str = "basic", extra_headers: dict[str, str] | None = None):
        self._transport = transport
        self._url = token_url
        self._id, self._secret = client_id, client_secret
        self._scopes = list(scopes)
        self._grant = grant or {"grant_type": "client_credentials"}
        self._in = credentials_in
        self._extra = extra_headers or {}
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()
        self._sent = threading.local()  # the token this thread last sent
        self.fetched = 0

    expiry_margin = EXPIRY_MARGIN_SECONDS

    @property
    def token_url(self) -> str:
        return self._url

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires:
                self._token, lifetime = self._fetch()
                self._expires = time.monotonic() + max(0.0, lifetime - self.expiry_margin)
                self.fetched += 1
            return self._token

    def _fetch(self) -> tuple[str, float]:
        form = dict(self._grant)
        if self._scopes:
            form["scope"] = " ".join(self._scopes)
        auth = None
        if self._id is not None:
            if self._in == "basic":
                auth = httpx.BasicAuth(self._id, self._secret or "")
            else:
                form.update(client_id=self._id, client_secret=self._secret or "")
        headers = {"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8", "Accept": "application/json",
                   **self._extra}
        response = self._transport.send("POST", self._url, auth=_Static(auth), data=form, headers=headers,
                                        ok_statuses=frozenset({400}))
        return read_token(response, self._url, _rfc6749_refusal)

    def apply(self, request: httpx.Request) -> None:
        token = self.token()
        self._sent.token = token
        request.headers["Authorization"] = f"Bearer {token}"

    def invalidate(self) -> bool:
        # Only the token that was refused: when parallel requests all meet the same expired token,
        # the first one's refresh serves the rest instead of each fetching its own.
        with self._lock:
            if self._token == getattr(self._sent, "token", None):
                self._token = None
        return True


def _rfc6749_refusal(status: int, error: str) -> tuple[str, str]:
    # RFC 6749 §5.2: invalid_client / unauthorized_client are bad credentials; invalid_scope a scope.
    return ("missing_scope" if error == "invalid_scope" else "bad_credentials"), f"HTTP {status}, error {error or 'unknown'}"


def read_token(response: httpx.Response, url: str,
               refusal: Callable[[int, str], tuple[str, str]]) -> tuple[str, float]:
    """The access token and its lifetime from a token endpoint's answer; a refusal (4xx) becomes
    the ConnectorError that ``refusal(status, error code)`` names, never with the body's free text
    (the code itself is checked to be one: ``reason_code``)."""
    try:
        body = response.json()
    except ValueError:
        raise ConnectorError("bad_response", where(url), "token response is not JSON") from None
    if response.status_code >= 400:
        # The code only, as a code: some servers put the refused secret itself into "error".
        error = reason_code(body.get("error")) if isinstance(body, dict) and body.get("error") else ""
        kind, detail = refusal(response.status_code, error)
        raise ConnectorError(kind, where(url), detail)  # type: ignore[arg-type]
    token = body.get("access_token") if isinstance(body, dict) else None
    if not token:
        raise ConnectorError("bad_response", where(url), "no access_token in the token response")
    remember_secret(str(token))  # a server echoing the token back in an error never shows it
    try:
        lifetime = float(body.get("expires_in", 3600))
    except (TypeError, ValueError):
        lifetime = 3600.0
    return token, lifetime


class _Static:
    """Basic credentials for the token request itself: a 401 there means they are wrong."""

    def __init__(self, basic: httpx.BasicAuth | None):
        self._basic = basic

    def apply(self, request: httpx.Request) -> None:
        if self._basic is not None:
            request.headers["Authorization"] = self._basic._auth_header

    def invalidate(self) -> bool:
        return False
