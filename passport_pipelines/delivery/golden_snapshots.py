"""Columnar snapshots of the golden records: what a delivery reads instead of the store's SQL tables.

Reading every committed row back out of SQL was the largest part of a delivery (15 s at a million
students on SQLite, more on PostgreSQL). After each commit, the version's snapshot is written: one
Parquet file per entity with every record on record (deleted ones too, flagged), built from the
previous version's snapshot plus the change set just committed. An entity the version did not change
keeps the previous file (a hard link), so a sync that changed only users rewrites only users.

Per partition, in ``$PASSPORT_HOME/golden_snapshots/<district>/<year>/v<version id>-<run id>/``.
The run id in the name ties a snapshot to the one store that committed it: a snapshot is used only
when it belongs to the partition's latest committed version, as the store itself says.

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
from pathlib import Path

import duckdb

from passport_pipelines import settings
from passport_pipelines.artifacts.staged_folder import staged_folder
from passport_pipelines.config.reconciliation import RECORD_ENTITIES
from passport_pipelines.model import entities
from passport_pipelines.store.golden_store import GoldenStore, Version
from passport_pipelines.transforms.engine import connect
from passport_pipelines.transforms.sql_text import ident, lit

# Entities whose golden ids and deletions a duplicate decision changes outside a commit.
REVIEWED = ("users", *RECORD_ENTITIES)
KEY = ("source", "sourced_id")


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


def write_snapshot(store: GoldenStore, version: Version, base_version_id: int | None,
                   upserts: dict[str, list[Path]], deletes: dict[str, list[Path]]) -> Path | None:
    """Write the snapshot of a just-committed ``version``: the snapshot of ``base_version_id`` (or, when
    there is none, the store as it was before) with ``upserts`` and ``deletes`` (the change set's
    Parquet files per entity) applied. Returns its folder; keeps the previous one for readers still
    on it and removes older ones."""
    target = snapshot_dir(version)
    if target is None:
        return None
    base = store.version(base_version_id) if base_version_id else None
    previous = snapshot_dir(base) if base else None
    if previous is not None and not previous.is_dir():
        previous = None
    con = connect()
    try:
        with staged_folder(target) as staging:
            for entity in entities.ENTITIES:
                out = staging / f"{entity}.parquet"
                ups, dels = upserts.get(entity, []), deletes.get(entity, [])
                if previous is not None and not ups and not dels:
                    _link(previous / f"{entity}.parquet", out)
                    continue
                before = _before(con, store, version, entity, previous, fresh=base is None)
                _apply(con, entity, before, ups, dels, version.id, out)
    finally:
        con.close()
    _remove_older(target, keep=previous)
    return target


def register_current(con: duckdb.DuckDBPyConnection, store: GoldenStore, folder: Path, version: Version,
                     entity: str, view: str) -> None:
    """``view``: the entity's current records from the snapshot in ``folder``, with golden ids, every
    canonical column (district and school year as constants), as the store would give them."""
    cols = content_columns(entity)
    path = lit(str(folder / f"{entity}.parquet"))
    picked = ", ".join(f"s.{ident(c)}" for c in cols)
    constants = f"{lit(version.district)} AS district, {lit(version.school_year)} AS school_year"
    if entity in REVIEWED:
        con.register(f"{view}__keys", store.current_keys(version.district, version.school_year, entity))
        con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT k.golden_id, k.source, k.sourced_id, {picked}, "
                    f"{constants} FROM {view}__keys AS k JOIN read_parquet({path}) AS s "
                    "ON s.source = k.source AND s.sourced_id = k.sourced_id")
    else:
        con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT s.golden_id, s.source, s.sourced_id, {picked}, "
                    f"{constants} FROM read_parquet({path}) AS s WHERE s.deleted_version IS NULL")


def _before(con: duckdb.DuckDBPyConnection, store: GoldenStore, version: Version, entity: str,
            previous: Path | None, *, fresh: bool) -> str | None:
    """A relation of the entity's records before this version, or None when there were none."""
    if previous is not None:
        return f"read_parquet({lit(str(previous / f'{entity}.parquet'))})"
    if fresh:
        return None
    # No snapshot to build on: the store, read once, minus nothing (the commit already happened, so
    # what it holds is this version's state; the change set is applied over it harmlessly).
    con.register(f"before__{entity}", store.all_records(version.district, version.school_year, entity,
                                                        content_columns(entity)))
    return f"before__{entity}"


def _apply(con: duckdb.DuckDBPyConnection, entity: str, before: str | None, ups: list[Path], dels: list[Path],
           version_id: int, out: Path) -> None:
    cols = content_columns(entity)
    listed = ", ".join(ident(c) for c in cols)
    parts = []
    if ups:
        parts.append(f"SELECT source, sourced_id, golden_id, CAST(NULL AS INTEGER) AS deleted_version, {listed} "
                     f"FROM read_parquet([{_files(ups)}], union_by_name = true)")
    if before is not None:
        deleted = "b.deleted_version"
        joins = ""
        if dels:
            joins = (f"LEFT JOIN (SELECT DISTINCT source, sourced_id FROM read_parquet([{_files(dels)}], "
                     "union_by_name = true)) AS d ON d.source = b.source AND d.sourced_id = b.sourced_id")
            deleted = f"CASE WHEN d.sourced_id IS NOT NULL THEN {int(version_id)} ELSE b.deleted_version END"
        anti = (f"WHERE NOT EXISTS (SELECT 1 FROM read_parquet([{_files(ups)}], union_by_name = true) AS u "
                "WHERE u.source = b.source AND u.sourced_id = b.sourced_id)") if ups else ""
        picked = ", ".join(f"b.{ident(c)}" for c in cols)
        parts.append(f"SELECT b.source, b.sourced_id, b.golden_id, CAST({deleted} AS INTEGER) AS deleted_version, "
                     f"{picked} FROM {before} AS b {joins} {anti}")
    if not parts:  # nothing before and nothing added: an empty file with the columns
        parts.append(f"SELECT '' AS source, '' AS sourced_id, '' AS golden_id, CAST(NULL AS INTEGER) "
                     f"AS deleted_version, {', '.join(_typed_null(entity, c) for c in cols)} WHERE false")
    # In key order: the file reads back in a stable order, so an unchanged district exports the same bytes.
    con.execute(f"COPY (SELECT * FROM ({' UNION ALL BY NAME '.join(parts)}) ORDER BY source, sourced_id) "
                f"TO {lit(str(out))} (FORMAT parquet, COMPRESSION zstd)")


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
    for folder in current.parent.iterdir():
        if folder.name.startswith("v") and folder not in (current, keep):
            shutil.rmtree(folder, ignore_errors=True)
