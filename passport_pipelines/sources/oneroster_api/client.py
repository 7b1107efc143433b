"""A OneRoster REST client: the version root, the auth the source asks for, and one page per call.

OAuth 1.0a (1.1 only) signs every request with the consumer key and secret; OAuth2 fetches a
client-credentials token (with the 1.2 scopes) and fetches it again once when the API answers 401.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from passport_pipelines.sources.base import plain_or_secret, secret
from passport_pipelines.sources.errors import ConnectorError
from passport_pipelines.sources.http.oauth1 import OAuth1Signer
from passport_pipelines.sources.http.oauth2 import BearerToken
from passport_pipelines.sources.http.transport import HttpTransport, where
from passport_pipelines.sources.oneroster_api.collections import SERVICE_PATHS, Collection, api_root

NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?', re.IGNORECASE)


@dataclass
class Page:
    records: list[dict]
    total: int | None  # X-Total-Count, when the server sends it
    next_url: str | None  # Link rel="next", when the server sends it
    server_time: dt.datetime | None  # the Date header


class OneRosterClient:
    """Reads pages of the collections of one OneRoster source."""

    def __init__(self, source, transport: HttpTransport):
        self.source = source
        self.transport = transport
        self.root = api_root(source.base_url, source.version)
        self.roots = {service: api_root(source.base_url, source.version, service) for service in
                      SERVICE_PATHS[source.version]}
        client_id = plain_or_secret(source, "client_id")
        client_secret = secret(source, "client_secret")
        if source.auth == "oauth1":
            self.auth = OAuth1Signer(client_id, client_secret)
            self.token: BearerToken | None = None
        else:
            self.token = BearerToken(transport, source.token_url, client_id, client_secret,
                                     scopes=source.oauth_scopes(), credentials_in=source.credentials_in)
            self.auth = self.token
        self.requests = 0
        self._lock = threading.Lock()

    def fetch_token(self) -> str:
        """Fetch the OAuth2 token now (Test Connection); says what was granted, never the token."""
        if self.token is None:
            return "OAuth 1.0a: every request is signed with the consumer key and secret"
        self.token.token()
        scopes = self.source.oauth_scopes()
        return f"token issued by {where(self.source.token_url)}" + (f" for {len(scopes)} scope(s)" if scopes else "")

    def page(self, collection: Collection, *, url: str | None = None, params: dict | None = None) -> Page:
        """One page: ``url`` (a Link rel=next, used as given) or the collection with ``params``."""
        target = url or f"{self.roots[collection.service]}/{collection.path}"
        response = self.transport.send("GET", target, auth=self.auth, params=None if url else params,
                                       headers={"Accept": "application/json"})
        with self._lock:
            self.requests += 1
        try:
            body = response.json()
        except ValueError:
            raise ConnectorError("bad_response", where(target), "the response is not JSON") from None
        records = body.get(collection.key) if isinstance(body, dict) else None
        if records is None and isinstance(body, dict) and not body:
            records = []  # some servers answer an empty page with {}
        if not isinstance(records, list):
            raise ConnectorError("bad_response", where(target), f"no {collection.key!r} list in the response")
        return Page(records, _total(response.headers.get("X-Total-Count")), _next(response.headers.get("Link")),
                    _date(response.headers.get("Date")))


def _total(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _next(value: str | None) -> str | None:
    if not value:
        return None
    m = NEXT_LINK.search(value)
    return m.group(1) if m else None


def _date(value: str | None) -> dt.datetime | None:
    try:
        return parsedate_to_datetime(value).astimezone(dt.timezone.utc) if value else None
    except (TypeError, ValueError):
        return None
