"""The golden store as a Dagster resource: SQLite under PASSPORT_HOME, or PASSPORT_DATABASE_URL."""

from __future__ import annotations

import threading

import dagster as dg

from passport_pipelines import settings
from passport_pipelines.store.golden_store import GoldenStore

# One engine (and one migration check) per database per process, shared by every run step in it; a
# process that meets many databases (a test session) keeps the latest few open.
_OPEN: dict[str, GoldenStore] = {}
_LOCK = threading.Lock()
_KEEP = 8


def close_stores() -> None:
    """Close the connections of every golden store this process opened through the resource (before
    the database they point at is dropped or replaced); the next ``store()`` opens it afresh."""
    with _LOCK:
        stores = list(_OPEN.values())
        _OPEN.clear()
    for store in stores:
        store.dispose()


class GoldenStoreResource(dg.ConfigurableResource):
    """Where committed rosters, versions and deliveries live."""

    database_url: str | None = None

    def store(self) -> GoldenStore:
        url = self.database_url or settings.database_url()
        with _LOCK:
            store = _OPEN.pop(url, None) or GoldenStore(url)
            _OPEN[url] = store  # the most recently used last
            oldest = [_OPEN.pop(u) for u in list(_OPEN)[:-_KEEP]]
        for old in oldest:
            old.dispose()
        return store
