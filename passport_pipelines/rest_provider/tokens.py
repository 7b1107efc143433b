"""Bearer tokens of the client credentials grant: signed (HS256), short-lived, and carrying the client,
its district, the secret generation they were issued under and the granted scopes.

The signature only says the token is ours; every request also looks the client up, so a removed
client or a rotated secret is refused at once, whatever tokens are still out there.
Set ``PASSPORT_API_TOKEN_KEY`` when several server processes share the load (behind one proxy), so
each accepts the others' tokens; without it each process signs with a random key of its own.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass

import jwt

TOKEN_LIFETIME_SECONDS = 3600
SCOPE_URL = "https://purl.imsglobal.org/spec/or/v1p2/scope/"
ISSUER = "passport-data-sync"


@dataclass(frozen=True)
class Grant:
    client_id: str
    district: str
    generation: int
    scopes: frozenset[str]  # short names: roster-core.readonly, ...


def scope_names(asked: str) -> list[str]:
    """Scopes as asked (space-separated URLs, or the short names) -> short names."""
    return [s[len(SCOPE_URL):] if s.startswith(SCOPE_URL) else s for s in asked.split()]


class TokenSigner:
    def __init__(self, key: str | None = None, lifetime: int = TOKEN_LIFETIME_SECONDS):
        self.key = key or os.environ.get("PASSPORT_API_TOKEN_KEY") or secrets.token_urlsafe(32)
        self.lifetime = lifetime

    def issue(self, grant: Grant) -> dict:
        now = int(time.time())
        token = jwt.encode({"iss": ISSUER, "sub": grant.client_id, "dst": grant.district, "gen": grant.generation,
                            "scope": sorted(grant.scopes), "iat": now, "exp": now + self.lifetime},
                           self.key, algorithm="HS256")
        return {"access_token": token, "token_type": "bearer", "expires_in": self.lifetime,
                "scope": " ".join(SCOPE_URL + s for s in sorted(grant.scopes))}

    def verify(self, token: str) -> Grant | None:
        """The grant of a token we signed and that has not expired; None otherwise."""
        try:
            claims = jwt.decode(token, self.key, algorithms=["HS256"], issuer=ISSUER,
                                options={"require": ["exp", "sub", "dst", "gen"]})
        except jwt.PyJWTError:
            return None
        return Grant(claims["sub"], claims["dst"], int(claims["gen"]), frozenset(claims.get("scope") or ()))
