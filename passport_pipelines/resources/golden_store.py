"""The golden store as a Dagster resource: SQLite under PASSPORT_HOME, or PASSPORT_DATABASE_URL."""

from __future__ import annotations

from functools import lru_cache

import dagster as dg

from passport_pipelines import settings
from passport_pipelines.store.golden_store import GoldenStore


@lru_cache(maxsize=8)
def _open(url: str) -> GoldenStore:
    # One engine (and one migration check) per database per process.
    return GoldenStore(url)


class GoldenStoreResource(dg.ConfigurableResource):
    """Where committed rosters, versions and deliveries live."""

    database_url: str | None = None

    def store(self) -> GoldenStore:
        return _open(self.database_url or settings.database_url())
