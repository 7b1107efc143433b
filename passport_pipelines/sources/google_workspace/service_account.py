"""A Google service account's access token, by the JWT-bearer grant with domain-wide delegation.

Google's "Using OAuth 2.0 for Server to Server Applications": the client signs a JWT (RS256,
``kid`` = the key's ``private_key_id``) whose claims are ``iss`` (the service account's
``client_email``), ``sub`` (the Workspace user it acts as), ``scope``, ``aud`` (the token URL),
``iat`` and ``exp`` (at most one hour later), and posts it to the token endpoint as
``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<jwt>``. The answer is an
access token valid for about an hour; it is cached until shortly before then and fetched again
when the API answers 401.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import jwt

from passport_pipelines.sources.errors import ConnectorError
from passport_pipelines.sources.http.oauth2 import BearerToken, read_token
from passport_pipelines.sources.http.transport import HttpTransport, where

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token"
ASSERTION_LIFETIME_SECONDS = 3600  # Google's maximum
EXPIRY_MARGIN_SECONDS = 60

# The token endpoint's error codes (RFC 6749 §5.2 as Google uses them). unauthorized_client is
# what a service account gets when the admin console has not delegated the scope to it.
SCOPE_ERRORS = frozenset({"unauthorized_client", "invalid_scope", "access_denied"})


@dataclass(frozen=True)
class ServiceAccountKey:
    """The parts of a service account's JSON key that signing needs."""

    client_email: str
    private_key: str
    private_key_id: str | None
    token_uri: str

    @classmethod
    def parse(cls, text: str, where_: str) -> "ServiceAccountKey":
        """The key from its JSON text, or from the path of a key file (as GOOGLE_APPLICATION_CREDENTIALS
        holds it). Errors never quote the content: it is the private key."""
        text = text.strip()
        if not text.startswith("{"):
            try:
                text = Path(text).expanduser().read_text(encoding="utf-8")
            except OSError:
                raise ConnectorError("bad_credentials", where_,
                                     "service_account_key is neither a JSON key nor a readable key file") from None
        try:
            data = json.loads(text)
        except ValueError:
            raise ConnectorError("bad_credentials", where_, "service_account_key is not valid JSON") from None
        if not isinstance(data, dict) or data.get("type", "service_account") != "service_account":
            raise ConnectorError("bad_credentials", where_, "service_account_key is not a service account key")
        missing = [k for k in ("client_email", "private_key") if not data.get(k)]
        if missing:
            raise ConnectorError("bad_credentials", where_, f"service_account_key has no {', '.join(missing)}")
        return cls(data["client_email"], data["private_key"], data.get("private_key_id"),
                   data.get("token_uri") or DEFAULT_TOKEN_URI)


class ServiceAccountToken(BearerToken):
    """Bearer tokens for ``subject`` (the delegated admin) with ``scopes``; an ``Auth`` for
    ``HttpTransport``, cached and refreshed as every ``BearerToken``."""

    expiry_margin = EXPIRY_MARGIN_SECONDS

    def __init__(self, transport: HttpTransport, key: ServiceAccountKey, *, subject: str, scopes: list[str],
                 token_url: str | None = None, clock=time.time):
        super().__init__(transport, token_url or key.token_uri, None, None, scopes=scopes)
        self._key = key
        self._subject = subject
        self._clock = clock

    def assertion(self) -> str:
        now = int(self._clock())
        claims = {"iss": self._key.client_email, "sub": self._subject, "scope": " ".join(self._scopes),
                  "aud": self.token_url, "iat": now, "exp": now + ASSERTION_LIFETIME_SECONDS}
        headers = {"kid": self._key.private_key_id} if self._key.private_key_id else None
        try:
            return jwt.encode(claims, self._key.private_key, algorithm="RS256", headers=headers)
        except (ValueError, TypeError, jwt.PyJWTError):
            # A truncated or re-wrapped PEM: the key cannot sign anything.
            raise ConnectorError("bad_credentials", where(self.token_url),
                                 "the service account key's private_key cannot be read") from None

    def _fetch(self) -> tuple[str, float]:
        form = {"grant_type": GRANT_TYPE, "assertion": self.assertion()}
        response = self._transport.send("POST", self.token_url, data=form, headers={"Accept": "application/json"},
                                        ok_statuses=frozenset({400, 401, 403}))
        return read_token(response, self.token_url, self._refusal)

    def _refusal(self, status: int, error: str) -> tuple[str, str]:
        kind = "missing_scope" if error in SCOPE_ERRORS else "bad_credentials"
        # The error code and what to do, not Google's description: it can name the delegated account.
        todo = (f"delegate {' '.join(self._scopes)} to the service account's client id (Admin console > "
                "Security > API controls > Domain-wide delegation)" if kind == "missing_scope" else
                "check the service account key (is it still active?) and that delegated_admin is an existing "
                "account of the domain")
        return kind, f"HTTP {status}, error {error or 'unknown'}; {todo}"
