"""OAuth 1.0a request signing with HMAC-SHA1 (RFC 5849 §3.4), as OneRoster 1.1 specifies:
two-legged, consumer key and secret only, a fresh nonce and timestamp on every request."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from urllib.parse import quote

import httpx


def _enc(value: str) -> str:
    return quote(value, safe="~-._")


def signature_base_string(method: str, url: httpx.URL, oauth_params: dict[str, str]) -> str:
    params = [(_enc(k), _enc(v)) for k, v in url.params.multi_items()]
    params += [(_enc(k), _enc(v)) for k, v in oauth_params.items() if k != "oauth_signature"]
    normalized = "&".join(f"{k}={v}" for k, v in sorted(params))
    port = "" if url.port in (None, 80 if url.scheme == "http" else 443) else f":{url.port}"
    base_uri = f"{url.scheme.lower()}://{url.host.lower()}{port}{url.path}"
    return "&".join((method.upper(), _enc(base_uri), _enc(normalized)))


def sign(method: str, url: httpx.URL, oauth_params: dict[str, str], consumer_secret: str,
         token_secret: str = "") -> str:
    """The HMAC-SHA1 signature; OneRoster's two-legged flow has no token, so no token secret."""
    key = f"{_enc(consumer_secret)}&{_enc(token_secret)}".encode()
    digest = hmac.new(key, signature_base_string(method, url, oauth_params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class OAuth1Signer:
    def __init__(self, consumer_key: str, consumer_secret: str):
        self._key, self._secret = consumer_key, consumer_secret

    def apply(self, request: httpx.Request) -> None:
        params = {
            "oauth_consumer_key": self._key,
            "oauth_nonce": secrets.token_hex(16),
            "oauth_signature_method": "HMAC-SHA1",
            "oauth_timestamp": str(int(time.time())),
            "oauth_version": "1.0",
        }
        params["oauth_signature"] = sign(request.method, request.url, params, self._secret)
        request.headers["Authorization"] = "OAuth " + ", ".join(f'{k}="{_enc(v)}"' for k, v in params.items())

    def invalidate(self) -> bool:
        return False  # a signature is made per request: a 401 means the key or secret is wrong
