"""Tokens for an xPress provider, and which endpoint (base URL) they open.

Both documented forms post a form to ``token_url``:

- ``oauth2`` (A4L's xPress Roster guide, "Component 1: Authentication"): ``grant_type=password``
  with ``username``/``password`` and ``client_id``/``client_secret``; without a username, the client
  credentials grant. The answer is RFC 6749's ``{"access_token", "expires_in", ...}``.
- ``login`` (RIC One's auth server, the public reference implementation): ``username`` and
  ``password`` only (RIC One issues the app's client id and secret as that login). The answer is
  ``{"id", "user_name", "token", "endpoint": [{"name", "href", "provider_id", "token"}]}``.

Either answer may list ``endpoint``s. Choice (documented in the source model): the endpoint named by
``provider_id``; else the one whose href is ``base_url``; else the only one. Its href becomes the
base URL and its token the bearer token. Without endpoints, ``base_url`` and the top-level token.
"""

from __future__ import annotations

import threading
import time

import httpx

from passport_pipelines.config.secrets import remember_secret
from passport_pipelines.sources.errors import ConnectorError, reason_code
from passport_pipelines.sources.http.transport import HttpTransport, where
from passport_pipelines.sources.xml_envelopes import as_list

DEFAULT_LIFETIME = 3600.0  # RIC One: "tokens expire after 60 minutes"; its login answer has no expires_in
EXPIRY_MARGIN = 30.0


class XpressAuth:
    """Bearer token and base URL of one xPress source, fetched on first use and again after a 401."""

    def __init__(self, transport: HttpTransport, source, credentials: dict[str, str | None]):
        self._transport = transport
        self._source = source
        self._cred = credentials  # client_id, client_secret, username, password, api_key (resolved)
        self._token: str | None = None
        self._base: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()
        self.fetched = 0

    def base_url(self) -> str:
        self.token()
        assert self._base is not None
        return self._base

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires:
                self._token, self._base, lifetime = self._fetch()
                self._expires = time.monotonic() + max(1.0, lifetime - EXPIRY_MARGIN)
                self.fetched += 1
            return self._token

    def apply(self, request: httpx.Request) -> None:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        self.apply_api_key(request)

    def apply_api_key(self, request: httpx.Request) -> None:
        if self._cred.get("api_key"):
            request.headers[self._source.api_key_header] = self._cred["api_key"]

    def invalidate(self) -> bool:
        with self._lock:
            self._token = None
        return True

    def _form(self) -> dict[str, str]:
        c, s = self._cred, self._source
        if s.auth == "login":
            user = c["username"] or c["client_id"]
            secret = c["password"] if c["username"] else c["client_secret"]
            return {"username": user or "", "password": secret or ""}
        form = {"grant_type": "password", "username": c["username"] or "", "password": c["password"] or ""} \
            if c["username"] else {"grant_type": "client_credentials"}
        if c["client_id"]:
            form.update(client_id=c["client_id"], client_secret=c["client_secret"] or "")
        return form

    def _fetch(self) -> tuple[str, str, float]:
        url = self._source.token_url
        response = self._transport.send(
            "POST", url, auth=_ApiKeyOnly(self), data=self._form(), ok_statuses=frozenset({400}),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"})
        try:
            body = response.json()
        except ValueError:
            raise ConnectorError("bad_response", where(url), "token answer is not JSON") from None
        if not isinstance(body, dict):
            raise ConnectorError("bad_response", where(url), "token answer is not a JSON object")
        if response.status_code == 400:  # RFC 6749 §5.2; the code only: it may echo the secret
            error = reason_code(body.get("error")) if body.get("error") else "unknown"
            kind = "missing_scope" if error == "invalid_scope" else "bad_credentials"
            raise ConnectorError(kind, where(url), f"HTTP 400, error {error}")
        try:
            lifetime = float(body.get("expires_in") or DEFAULT_LIFETIME)
        except (TypeError, ValueError):
            lifetime = DEFAULT_LIFETIME
        token, base = self._choose(body, url)
        remember_secret(token)
        return token, base.rstrip("/"), lifetime

    def _choose(self, body: dict, url: str) -> tuple[str, str]:
        top = body.get("access_token") or body.get("token")
        endpoints = [e for e in as_list(body.get("endpoint")) if isinstance(e, dict) and e.get("href")]
        configured = self._source.base_url
        if endpoints:
            wanted = self._source.provider_id
            if wanted:
                picked = [e for e in endpoints if wanted in (e.get("provider_id"), e.get("name"))]
            elif configured:
                picked = [e for e in endpoints if e["href"].rstrip("/") == configured]
            else:
                picked = endpoints if len(endpoints) == 1 else []
            if picked:
                return picked[0].get("token") or _required(top, url), picked[0]["href"]
            if wanted or not configured:
                names = ", ".join(reason_code(e.get("provider_id") or e.get("name")) for e in endpoints)
                raise ConnectorError("bad_response", where(url),
                                     f"{len(endpoints)} endpoint(s) in the token answer ({names}); "
                                     "set provider_id to the one to read" if not wanted else
                                     f"no endpoint with provider_id {wanted} (have {names})")
        if not configured:
            raise ConnectorError("bad_response", where(url), "the token answer names no endpoint; set base_url")
        return _required(top, url), configured


def _required(token, url: str) -> str:
    if not token:
        raise ConnectorError("bad_response", where(url), "no access_token or token in the token answer")
    return token


class _ApiKeyOnly:
    """The token request carries the API key (when there is one) but no bearer token; a 401
    there means the credentials are wrong, so it is never retried with a new token."""

    def __init__(self, auth: XpressAuth):
        self._auth = auth

    def apply(self, request: httpx.Request) -> None:
        self._auth.apply_api_key(request)

    def invalidate(self) -> bool:
        return False
