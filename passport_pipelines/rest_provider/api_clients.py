"""The apps allowed to read the REST provider, in the golden store: client id, district, destination,
the hash of the secret and its generation (a rotation refuses the tokens issued before it).

``add`` and ``rotate`` return the new secret, which is never stored or shown again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from passport_pipelines.config.integration import Integration
from passport_pipelines.rest_provider.secrets_hash import hash_secret, new_secret, secret_matches
from passport_pipelines.store import schema
from passport_pipelines.store.golden_store import GoldenStore


class ApiClientError(ValueError):
    """The client cannot be added, rotated or removed; the message says why."""


@dataclass(frozen=True)
class ApiClient:
    client_id: str
    district: str
    destination: str
    generation: int
    secret_hash: str


def _destination(integration: Integration, name: str):
    for d in integration.api_destinations:
        if d.name == name:
            return d
    names = ", ".join(d.name for d in integration.api_destinations) or "none"
    raise ApiClientError(f"{integration.district}: no oneroster-1.2-api destination {name!r} "
                         f"(the integration file has: {names})")


class ApiClients:
    def __init__(self, store: GoldenStore):
        self.engine = store.engine

    def get(self, client_id: str) -> ApiClient | None:
        t = schema.api_clients
        with self.engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.client_id == client_id)).mappings().first()
        return ApiClient(row["client_id"], row["district"], row["destination"], row["generation"],
                         row["secret_hash"]) if row else None

    def authenticate(self, client_id: str, secret: str) -> ApiClient | None:
        client = self.get(client_id)
        return client if client is not None and secret_matches(secret, client.secret_hash) else None

    def add(self, integration: Integration, destination: str) -> tuple[ApiClient, str]:
        dest = _destination(integration, destination)
        secret, now = new_secret(), datetime.now(timezone.utc)
        try:
            with self.engine.begin() as conn:
                conn.execute(schema.api_clients.insert().values(
                    client_id=dest.client_id, district=integration.district, destination=dest.name,
                    secret_hash=hash_secret(secret), generation=1, created_at=now, rotated_at=now))
        except IntegrityError:
            raise ApiClientError(f"client {dest.client_id} has a secret already: `passport api-clients rotate` "
                                 "gives it a new one") from None
        return self.get(dest.client_id), secret

    def rotate(self, integration: Integration, destination: str) -> tuple[ApiClient, str]:
        dest = _destination(integration, destination)
        secret = new_secret()
        t = schema.api_clients
        with self.engine.begin() as conn:
            done = conn.execute(update(t).where(t.c.client_id == dest.client_id,
                                                t.c.district == integration.district)
                                .values(secret_hash=hash_secret(secret), generation=t.c.generation + 1,
                                        rotated_at=datetime.now(timezone.utc))).rowcount
        if not done:
            raise ApiClientError(f"client {dest.client_id} has no secret yet: `passport api-clients add` first")
        return self.get(dest.client_id), secret

    def remove(self, district: str, destination: str) -> str:
        """Revoke the destination's client: its tokens are refused from the next request on."""
        t = schema.api_clients
        with self.engine.begin() as conn:
            row = conn.execute(select(t.c.client_id).where(t.c.district == district, t.c.destination == destination)
                               ).first()
            if row is None:
                raise ApiClientError(f"{district}: destination {destination} has no API client")
            conn.execute(delete(t).where(t.c.client_id == row[0]))
        return row[0]

    def of_district(self, district: str) -> list[ApiClient]:
        t = schema.api_clients
        with self.engine.connect() as conn:
            rows = conn.execute(select(t).where(t.c.district == district).order_by(t.c.client_id)).mappings().all()
        return [ApiClient(r["client_id"], r["district"], r["destination"], r["generation"], r["secret_hash"])
                for r in rows]
