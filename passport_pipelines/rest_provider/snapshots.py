"""The snapshots an app is served from, one file per app × district × school year × version, under
``$PASSPORT_HOME/api/snapshots``. Built once (by ``passport serve`` as versions go into production, or by
the first request that needs one), then only read; the previous one is kept for the next build's
comparison (``snapshot_build``) and older ones are removed.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import duckdb

from passport_pipelines.config.destinations import OneRosterApiDestination
from passport_pipelines.config.integration import Integration
from passport_pipelines.delivery.golden_frames import golden_frames
from passport_pipelines.delivery.privacy_shield import shield_frames
from passport_pipelines.rest_provider.served_version import served_version
from passport_pipelines.rest_provider.snapshot_build import build_snapshot
from passport_pipelines.store.golden_store import GoldenStore, Version

API_ROOT = "/ims/oneroster/rostering/v1p2"
# How long the version in production is taken as known: a newly delivered version is served within this.
VERSION_TTL_SECONDS = 2.0
_FILE = re.compile(r"^v(\d+)\.duckdb$")


class NotServable(RuntimeError):
    """Nothing in production to serve yet (or only a version whose records have since been replaced)."""


def api_base(prefix: str, district: str, school_year: str) -> str:
    return f"{prefix}/{district}/{school_year}{API_ROOT}"


class Snapshots:
    def __init__(self, store: GoldenStore, root: Path, prefix: str = ""):
        self.store, self.root, self.prefix = store, root, prefix.rstrip("/")
        self._locks: dict[tuple, threading.Lock] = {}
        self._guard = threading.Lock()
        self._open: dict[Path, duckdb.DuckDBPyConnection] = {}
        self._served: dict[tuple[str, str], tuple[float, object]] = {}

    def folder(self, district: str, school_year: str, client_id: str) -> Path:
        return self.root / district / school_year / client_id

    def built(self, district: str, school_year: str, client_id: str) -> dict[int, Path]:
        folder = self.folder(district, school_year, client_id)
        if not folder.is_dir():
            return {}
        return {int(m.group(1)): p for p in folder.iterdir() if (m := _FILE.match(p.name))}

    def _lock(self, key: tuple) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def current(self, integration: Integration, dest: OneRosterApiDestination, school_year: str) -> tuple[int, Path]:
        """The snapshot of the version in production for this app: built now if it is missing."""
        key, now = (integration.district, school_year), time.monotonic()
        cached = self._served.get(key)
        if cached is not None and now - cached[0] < VERSION_TTL_SECONDS:
            served = cached[1]
        else:
            served = served_version(self.store, integration.district, school_year)
            self._served[key] = (now, served)
        if served.in_production is None:
            raise NotServable(f"{integration.district} {school_year} has no version in production yet")
        number = served.in_production.number
        have = self.built(integration.district, school_year, dest.client_id)
        if number in have:
            return number, have[number]
        if not served.buildable:
            raise NotServable(f"{integration.district} {school_year}: version {number} is no longer in the golden "
                              "tables and was never served; the version being delivered is served once in production")
        self.build(integration, served.in_production, [dest])
        return number, self.built(integration.district, school_year, dest.client_id)[number]

    def build(self, integration: Integration, version: Version, dests: list[OneRosterApiDestination]) -> list[str]:
        """Build the version's snapshot for each app that lacks it (the golden frames once for all);
        returns the client ids built."""
        wanted = [d for d in dests if version.number not in self.built(version.district, version.school_year,
                                                                         d.client_id)]
        if not wanted:
            return []
        locks = [self._lock((version.district, version.school_year, d.client_id)) for d in wanted]
        for lock in locks:
            lock.acquire()
        try:
            wanted = [d for d in wanted if version.number not in self.built(version.district, version.school_year,
                                                                              d.client_id)]
            if not wanted:
                return []
            golden = golden_frames(integration, version, self.store)
            again = served_version(self.store, version.district, version.school_year)
            if again.in_production is None or again.in_production.id != version.id or not again.buildable:
                raise NotServable(f"{version.district} {version.school_year}: a newer version was committed while "
                                  f"version {version.number} was read; it is served once in production")
            for dest in wanted:
                frames, _absent = shield_frames(golden.frames, dest.shield, org_keys=golden.org_keys)
                have = self.built(version.district, version.school_year, dest.client_id)
                older = [n for n in have if n < version.number]
                previous = have[max(older)] if older else None
                path = self.folder(version.district, version.school_year, dest.client_id) / f"v{version.number}.duckdb"
                build_snapshot(path, frames, base=api_base(self.prefix, version.district, version.school_year),
                               committed_at=version.committed_at, version_number=version.number, previous=previous)
                for n in older:
                    if previous is not None and have[n] != previous:
                        self._drop(have[n])
            return [d.client_id for d in wanted]
        finally:
            for lock in locks:
                lock.release()

    def connection(self, path: Path) -> duckdb.DuckDBPyConnection:
        """A cursor on the snapshot (one per request: DuckDB cursors are safe across threads)."""
        with self._guard:
            con = self._open.get(path)
            if con is None:
                con = duckdb.connect(str(path), read_only=True)
                self._open[path] = con
        return con.cursor()

    def _drop(self, path: Path) -> None:
        """Remove a snapshot two versions old: no request reads it any more (each request reads the
        newest one, and the one before is kept)."""
        with self._guard:
            con = self._open.pop(path, None)
        if con is not None:
            con.close()
        path.unlink(missing_ok=True)

    def close(self) -> None:
        with self._guard:
            for con in self._open.values():
                con.close()
            self._open.clear()
