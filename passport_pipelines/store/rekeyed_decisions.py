"""Duplicate review follows a re-keyed source: its cases and decisions name records by (source, sourced
id), so when a change of the source's identity settings re-keys its records (``changes/rekey.py``),
the commit moves them to the new keys in the same transaction. A pair kept apart stays apart, a queued
case stays queued, and an undo still finds the decision it takes back.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from passport_pipelines.model import entities
from passport_pipelines.store.arrow_connection import ArrowConnection
from passport_pipelines.store.duplicate_review import RECORD_KEY_SEPARATOR

# The tables and the sides of a pair they name records by.
_SIDES = (("duplicate_cases", ("left", "right")), ("duplicate_decisions", ("primary", "secondary")))


def rekeyed_maps(folders: list[Path]) -> dict[str, pa.Table]:
    """entity -> (old_source, old_sourced_id, source, sourced_id) of every re-keyed record."""
    out = {}
    for entity in entities.ENTITIES:
        parts = [pq.read_table(f / f"rekeyed__{entity}.parquet") for f in folders
                 if (f / f"rekeyed__{entity}.parquet").exists()]
        parts = [p for p in parts if p.num_rows]
        if parts:
            out[entity] = pa.concat_tables(parts)
    return out


def rekey_writer(folders: list[Path], *, district: str, school_year: str):
    """A commit ``also`` step: the duplicate cases and decisions of re-keyed records moved to their new keys."""
    def write(ac: ArrowConnection, version_id: int) -> None:
        for entity, moved in rekeyed_maps(folders).items():
            ac.ingest("rekeyed_records", moved, temporary=True)
            ac.execute("CREATE INDEX ix_rekeyed_records ON rekeyed_records (old_source, old_sourced_id)")
            for table, sides in _SIDES:
                for side in sides:
                    match = (f"FROM rekeyed_records AS m WHERE m.old_source = {table}.{side}_source "
                             f"AND m.old_sourced_id = {table}.{side}_sourced_id")
                    ac.execute(
                        f"UPDATE {table} SET {side}_source = (SELECT m.source {match}), "
                        f"{side}_sourced_id = (SELECT m.sourced_id {match}) "
                        f"WHERE district = {ac.ph(1)} AND school_year = {ac.ph(2)} AND entity = {ac.ph(3)} "
                        f"AND EXISTS (SELECT 1 {match})", [district, school_year, entity])
            ac.execute("DROP TABLE rekeyed_records")
    return write


def rekeyed_pairs(known: pa.Table, moved: pa.Table | None) -> pa.Table:
    """The pairs a sync must not offer again (``DuplicateReview.known_pairs``), also under the new keys
    of the records this sync re-keys: its own search already sees those."""
    if moved is None or not known.num_rows:
        return known
    con = duckdb.connect()
    try:
        con.register("known", known)
        con.register("moved", moved)
        sep = f"chr({ord(RECORD_KEY_SEPARATOR)})"
        return con.execute(f"""
            WITH m AS (SELECT old_source || {sep} || old_sourced_id AS old_key, source || {sep} || sourced_id AS new_key
                       FROM moved),
                 carried AS (SELECT coalesce(ml.new_key, k.left_key) AS l, coalesce(mr.new_key, k.right_key) AS r
                             FROM known AS k LEFT JOIN m AS ml ON ml.old_key = k.left_key
                             LEFT JOIN m AS mr ON mr.old_key = k.right_key)
            SELECT left_key, right_key FROM known
            UNION
            SELECT least(l, r) AS left_key, greatest(l, r) AS right_key FROM carried
            ORDER BY left_key, right_key""").to_arrow_table()
    finally:
        con.close()
