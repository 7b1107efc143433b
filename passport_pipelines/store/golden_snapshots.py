"""Columnar snapshots of the golden records: what a delivery reads instead of the store's SQL tables.

Reading every committed row back out of SQL was the largest part of a delivery (15 s at a million
students on SQLite, more on PostgreSQL). Each commit comes with its version's snapshot: one Parquet
file per entity with every record on record (deleted ones too, flagged), built from the previous
version's snapshot plus the change set being committed, in a background thread while the store
commits. An entity the version did not change keeps the previous file (a hard link), so a sync that
changed only users rewrites only users.

Per partition, in ``$PASSPORT_HOME/golden_snapshots/<district>/<year>/v<version id>-<run id>/``.
The run id in the name ties a snapshot to the one store that committed it: a snapshot is used only
when it belongs to the partition's latest committed version, as the store itself says. It gets that
name only once the commit succeeded; until then it is a hidden folder, removed if the commit fails.

What a snapshot can and cannot stand for:

- a record's content, golden id and deletion change in a commit, and the snapshot is that commit's;
- the golden ids and deletions of people and of the records a domain of uniqueness merges (orgs,
  sessions, courses, classes) also change when a person resolves or undoes a duplicate case, at any
  time: for those entities the snapshot gives the content, and the store the golden ids and which
  records are current (a narrow read of keys).

A missing snapshot (the store was upgraded, the home folder is not the one that committed, a sync
was killed before writing it) is never wrong, only slower: the delivery reads the store, and the next
commit builds its snapshot from the store once, then from snapshots again.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from pathlib import Path

import duckdb
import pyarrow as pa

from passport_pipelines import settings
from passport_pipelines.config.reconciliation import RECORD_ENTITIES
from passport_pipelines.model import entities
from passport_pipelines.sql.engine import connect
from passport_pipelines.sql.quoting import ident, lit
from passport_pipelines.store.golden_store import GoldenStore, Version

# Entities whose golden ids and deletions a duplicate decision changes outside a commit.
REVIEWED = ("users", *RECORD_ENTITIES)


def content_columns(entity: str) -> list[str]:
    """The canonical columns a snapshot keeps besides its keys (district and school year are the folder's)."""
    return [c for c in entities.columns(entity) if c not in ("district", "school_year", "source", "sourced_id")]


def partition_dir(district: str, school_year: str) -> Path:
    return settings.passport_home() / "golden_snapshots" / district / school_year


def snapshot_dir(version: Version) -> Path | None:
    """Where the version's snapshot is (or would be); None for a version no run committed."""
    if not version.run_id:
        return None
    return partition_dir(version.district, version.school_year) / f"v{version.id}-{version.run_id}"


def latest_snapshot(store: GoldenStore, district: str, school_year: str) -> Path | None:
    """The snapshot of the partition's latest committed version, when there is one."""
    latest = store.latest_version(district, school_year)
    folder = snapshot_dir(latest) if latest else None
    return folder if folder is not None and folder.is_dir() else None


def record_counts(store: GoldenStore, district: str, school_year: str) -> dict[str, int]:
    """Current records per entity, as ``GoldenStore.count_records`` counts them, from the latest snapshot
    where it can (counting 7 M enrollments in SQL took seconds of every sync)."""
    folder = latest_snapshot(store, district, school_year)
    if folder is None:
        return store.count_records(district, school_year)
    counts = store.count_records(district, school_year, only=REVIEWED)
    con = connect()
    try:
        for entity in entities.ENTITIES:
            if entity not in REVIEWED:
                path = lit(str(folder / f"{entity}.parquet"))
                counts[entity] = con.execute(f"SELECT count(*) FROM read_parquet({path}) WHERE NOT deleted").fetchone()[0]
    finally:
        con.close()
    return {e: counts[e] for e in entities.ENTITIES}


class SnapshotBuild:
    """The snapshot of the version a commit is about to write. It applies the change set (``upserts``
    and ``deletes``: its Parquet files per entity) to the snapshot of ``base_version_id``, in a
    background thread started here, while the store commits: a first sync's commit is bound by one SQL
    writer, and the other core writes the Parquet. It is written into a hidden folder that ``finish``
    names after the committed version and ``discard`` removes. With no snapshot to start from (but a
    version before), it is built by ``finish``, after the commit, from the store."""

    def __init__(self, store: GoldenStore, district: str, school_year: str, base_version_id: int | None,
                 upserts: dict[str, list[Path]], deletes: dict[str, list[Path]]):
        self.store, self.district, self.school_year = store, district, school_year
        self.upserts, self.deletes = upserts, deletes
        base = store.version(base_version_id) if base_version_id else None
        previous = snapshot_dir(base) if base else None
        self.previous = previous if previous is not None and previous.is_dir() else None
        self.from_store = base is not None and self.previous is None
        self.staging = partition_dir(district, school_year) / f".building-{uuid.uuid4().hex[:12]}"
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if not self.from_store:
            self._thread = threading.Thread(target=self._run, name="passport-golden-snapshot", daemon=True)
            self._thread.start()

    def finish(self, version: Version) -> Path | None:
        """Name the snapshot after the committed ``version`` and remove older ones; raises (leaving
        nothing behind) if it could not be built."""
        target = snapshot_dir(version)
        try:
            if self._thread is not None:
                self._thread.join()
            elif target is not None:
                self._build()
            if self._error is not None:
                raise self._error
            if target is None:
                return None
            if target.exists():
                shutil.rmtree(target)
            self.staging.rename(target)
        finally:
            self.discard()
        _remove_older(target, keep=self.previous)
        return target

    def discard(self) -> None:
        """Wait for the build and remove what it wrote (the commit failed, or finish is done with it)."""
        if self._thread is not None:
            self._thread.join()
        shutil.rmtree(self.staging, ignore_errors=True)

    def _run(self) -> None:
        try:
            self._build()
        except BaseException as exc:  # handed to finish()
            self._error = exc

    def _build(self) -> None:
        self.staging.mkdir(parents=True, exist_ok=True)
        con = connect()
        try:
            for entity in entities.ENTITIES:
                out = self.staging / f"{entity}.parquet"
                ups, dels = self.upserts.get(entity, []), self.deletes.get(entity, [])
                if self.previous is not None and not ups and not dels:
                    _link(self.previous / f"{entity}.parquet", out)
                    continue
                _apply(con, entity, self._before(con, entity), ups, dels, out)
        finally:
            con.close()

    def _before(self, con: duckdb.DuckDBPyConnection, entity: str) -> str | None:
        """A relation of the entity's records before this version, or None when there were none."""
        if self.previous is not None:
            return f"read_parquet({lit(str(self.previous / f'{entity}.parquet'))})"
        if not self.from_store:
            return None
        # Read after the commit, so it is this version's state already; the change set applies over it
        # as a no-op (its upserts are what the rows hold, its deletions are marked).
        records = self.store.all_records(self.district, self.school_year, entity, content_columns(entity))
        con.register(f"before__{entity}", records)
        return f"(SELECT * EXCLUDE (deleted_version), deleted_version IS NOT NULL AS deleted FROM before__{entity})"


def register_current(con: duckdb.DuckDBPyConnection, store: GoldenStore, folder: Path, version: Version,
                     entity: str, view: str, keys: pa.Table | None = None) -> None:
    """``view``: the entity's current records from the snapshot in ``folder``, with golden ids, every
    canonical column (district and school year as constants), as the store would give them. For a
    reviewed entity the store's current keys (``keys``, when already read) are registered as ``<view>__keys``."""
    cols = content_columns(entity)
    path = lit(str(folder / f"{entity}.parquet"))
    picked = ", ".join(f"s.{ident(c)}" for c in cols)
    constants = f"{lit(version.district)} AS district, {lit(version.school_year)} AS school_year"
    if entity in REVIEWED:
        con.register(f"{view}__keys", keys if keys is not None
                     else store.current_keys(version.district, version.school_year, entity))
        con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT k.golden_id, k.source, k.sourced_id, {picked}, "
                    f"{constants} FROM {view}__keys AS k JOIN read_parquet({path}) AS s "
                    "ON s.source = k.source AND s.sourced_id = k.sourced_id")
    else:
        con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT s.golden_id, s.source, s.sourced_id, {picked}, "
                    f"{constants} FROM read_parquet({path}) AS s WHERE NOT s.deleted")


def _apply(con: duckdb.DuckDBPyConnection, entity: str, before: str | None, ups: list[Path], dels: list[Path],
           out: Path) -> None:
    """Write ``out``: the records of ``before`` with the change set applied (``deleted``: marked deleted)."""
    cols = content_columns(entity)
    listed = ", ".join(ident(c) for c in cols)
    parts = []
    if ups:
        parts.append(f"SELECT source, sourced_id, golden_id, false AS deleted, {listed} "
                     f"FROM read_parquet([{_files(ups)}], union_by_name = true)")
    if before is not None:
        deleted, joins = "b.deleted", ""
        if dels:
            joins = (f"LEFT JOIN (SELECT DISTINCT source, sourced_id FROM read_parquet([{_files(dels)}], "
                     "union_by_name = true)) AS d ON d.source = b.source AND d.sourced_id = b.sourced_id")
            deleted = "b.deleted OR d.sourced_id IS NOT NULL"
        anti = (f"WHERE NOT EXISTS (SELECT 1 FROM read_parquet([{_files(ups)}], union_by_name = true) AS u "
                "WHERE u.source = b.source AND u.sourced_id = b.sourced_id)") if ups else ""
        picked = ", ".join(f"b.{ident(c)}" for c in cols)
        parts.append(f"SELECT b.source, b.sourced_id, b.golden_id, ({deleted}) AS deleted, {picked} "
                     f"FROM {before} AS b {joins} {anti}")
    if not parts:  # nothing before and nothing added: an empty file with the columns
        parts.append(f"SELECT '' AS source, '' AS sourced_id, '' AS golden_id, false AS deleted, "
                     f"{', '.join(_typed_null(entity, c) for c in cols)} WHERE false")
    # Merged with what came before, in key order again, so the file reads back in a stable order. A first
    # sync's upserts are in key order per source already, and are streamed as they are.
    order = " ORDER BY source, sourced_id" if before is not None else ""
    con.execute(f"COPY (SELECT * FROM ({' UNION ALL BY NAME '.join(parts)}){order}) "
                f"TO {lit(str(out))} (FORMAT parquet, COMPRESSION snappy)")


def _typed_null(entity: str, column: str) -> str:
    kind = "BOOLEAN" if column in entities.boolean_columns(entity) else "VARCHAR"
    return f"CAST(NULL AS {kind}) AS {ident(column)}"


def _files(paths: list[Path]) -> str:
    return ", ".join(lit(str(p)) for p in paths)


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system, or no hard links there
        shutil.copyfile(source, target)


def _remove_older(current: Path, keep: Path | None) -> None:
    """Older snapshots, and what a build killed midway left (one sync of a partition at a time: no other
    build of it is running)."""
    for folder in current.parent.iterdir():
        if folder.name.startswith(("v", ".building-")) and folder not in (current, keep):
            shutil.rmtree(folder, ignore_errors=True)
