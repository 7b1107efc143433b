"""Materializing what one app may read of one version: a DuckDB file with a table per collection.

Each table holds the collection's records as JSON (``record_shapes``), ordered by ``sourcedId``
with a ``rank`` column (1, 2, ... over the active records): a page of ``limit``/``offset`` is the rank
range ``offset+1 .. offset+limit``, read through DuckDB's min-max index of the sorted column, so the
thousandth page costs what the first does.

``dateLastModified`` and deletions are per app: a record keeps the date of the snapshot it last changed
in (as this app sees it, through its shield), and a record the app could read in the previous snapshot
but no longer can is kept as ``status: tobedeleted`` with the date it went, and carried forward, so an
incremental consumer asking ``filter=dateLastModified>'...'`` learns of every change since its last pull.
The first snapshot of an app dates every record at its version's commit.
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from passport_pipelines.rest_provider.record_shapes import Shape, shapes
from passport_pipelines.sql.quoting import ident, lit

MEMORY_LIMIT = os.environ.get("PASSPORT_API_SNAPSHOT_MEMORY", "6GB")


def iso_millis(moment: datetime) -> str:
    moment = (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def build_snapshot(path: Path, frames: dict[str, pd.DataFrame], *, base: str, committed_at: datetime,
                   version_number: int, previous: Path | None) -> None:
    """Write the snapshot to ``path`` (whole or not at all); ``frames``: the shielded delivered frames."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.part")
    partial.unlink(missing_ok=True)
    stamp = iso_millis(committed_at)
    con = duckdb.connect(str(partial))
    spill = path.parent / ".spill"
    try:
        # A million students' records as JSON are gigabytes: bounded, the rest goes to disk.
        con.execute(f"SET memory_limit = {lit(MEMORY_LIMIT)}")
        con.execute(f"SET temp_directory = {lit(str(spill))}")
        # Row order is set where it matters (ORDER BY of each table); elsewhere DuckDB may stream and spill.
        con.execute("SET preserve_insertion_order = false")
        for entity, frame in frames.items():
            con.register(entity, pa.Table.from_pandas(frame, preserve_index=False))
        prev_tables: set[str] = set()
        if previous is not None and previous.exists():
            con.execute(f"ATTACH {lit(str(previous))} AS prev (READ_ONLY)")
            prev_tables = {r[0] for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'prev'").fetchall()}
        served = []
        for shape in shapes(base, set(frames)):
            _collection_table(con, shape, stamp, shape.collection in prev_tables)
            served.append(shape.collection)
        # Carried forward: a collection the app could read before and no longer can (its shield now
        # withholds the entity) has all its records gone.
        for gone in sorted(prev_tables - set(served) - {"snapshot_meta"}):
            con.execute(f"CREATE TABLE {ident(gone)} AS SELECT * REPLACE (NULL::BIGINT AS rank) "
                        f"FROM prev.{ident(gone)} WHERE false")
        con.execute("CREATE TABLE snapshot_meta (key VARCHAR, value VARCHAR)")
        con.executemany("INSERT INTO snapshot_meta VALUES (?, ?)",
                        [("version", str(version_number)), ("committed_at", stamp),
                         ("built_at", iso_millis(datetime.now(timezone.utc))), ("collections", ",".join(served))])
        if previous is not None and previous.exists():
            con.execute("DETACH prev")
        con.execute("CHECKPOINT")
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)
    os.replace(partial, path)
    Path(str(partial) + ".wal").unlink(missing_ok=True)


def _collection_table(con: duckdb.DuckDBPyConnection, shape: Shape, stamp: str, has_prev: bool) -> None:
    fields = [f for f in shape.fields if f.name != "sourcedId"]
    if shape.part_of is not None:
        # The snapshot's own table, not the frame of the same name (a temporary view, found first).
        db = con.execute("SELECT current_database()").fetchone()[0]
        # The records are the whole collection's, already built: chosen, not computed again.
        # Its members are the stored record less the head it starts with (sourcedId, status, date).
        head = """length('{"sourcedId":' || to_json("sourcedId") || ',"status":"active","dateLastModified":'
                  || to_json("dateLastModified"))"""
        con.execute(f"""CREATE OR REPLACE TABLE body AS SELECT * EXCLUDE (rank, status, "dateLastModified",
            j_record), CASE WHEN length(j_record) > {head} + 1 THEN substr(j_record, {head} + 2,
            length(j_record) - {head} - 2) ELSE '' END AS j_body
            FROM {ident(db)}.{ident(shape.part_of)} WHERE status = 'active' AND {shape.where}""")
    else:
        # ``j_body``: the record's fields as JSON members, one text per record (a field without a value
        # is left out); ``content``: its 64-bit hash, enough to tell a change from the previous snapshot.
        members = ", ".join(lit(f'"{f.name}":') + f" || ({f.json})" for f in fields if f.in_json)
        value_cols = [f"{f.value} AS {ident('v_' + f.name)}" for f in fields if f.value is not None]
        link_cols = [f"{sql} AS {ident('k_' + name)}" for name, sql in shape.links.items()]
        con.execute(f"""CREATE OR REPLACE TABLE body AS SELECT *, hash(j_body) AS content FROM (
            SELECT o.sourced_id AS "sourcedId", concat_ws(',', {members}) AS j_body,
                   {', '.join([*value_cols, *link_cols])}
            FROM {shape.source})""")
    table = ident(shape.collection)
    at = lit(stamp)
    if has_prev:
        # Unchanged records keep their date; the records the app no longer reads are gone as of now,
        # and the ones gone before stay gone with their date.
        rows = f"""
            SELECT b.*, 'active' AS status,
                   CASE WHEN p.status = 'active' AND p.content = b.content THEN p."dateLastModified"
                        ELSE {at} END AS "dateLastModified"
            FROM body AS b LEFT JOIN prev.{table} AS p ON p."sourcedId" = b."sourcedId"
            UNION ALL BY NAME
            SELECT p."sourcedId", 'tobedeleted' AS status,
                   CASE WHEN p.status = 'tobedeleted' THEN p."dateLastModified" ELSE {at} END
                       AS "dateLastModified"
            FROM prev.{table} AS p ANTI JOIN body AS b ON b."sourcedId" = p."sourcedId" """
    else:
        rows = f"SELECT *, 'active' AS status, {at} AS \"dateLastModified\" FROM body"
    # ``j_record``: the whole record, what a page reads (``fields`` picks members out of it). Stored in
    # rank order, so that a rank range is a few adjacent row groups.
    con.execute("SET preserve_insertion_order = true")
    con.execute(f"""CREATE TABLE {table} AS SELECT * EXCLUDE (j_body),
            '{{"sourcedId":' || to_json("sourcedId") || ',"status":' || to_json(status) || ',"dateLastModified":'
            || to_json("dateLastModified") || CASE WHEN j_body <> '' THEN ',' || j_body ELSE '' END || '}}'
            AS j_record
        FROM (SELECT CASE WHEN status = 'active' THEN row_number() OVER (PARTITION BY status ORDER BY "sourcedId")
                     END AS rank, * FROM ({rows}))
        ORDER BY rank NULLS LAST, "sourcedId" """)
    con.execute("SET preserve_insertion_order = false")
    con.execute("DROP TABLE body")
