"""Which people's delivered rows a commit may have changed: what lets a delivery rebuild only their rows of
``users.csv`` and splice them into the destination's last package (``csv_splice.py``).

A person's row (one per golden id) is made of the user records that share the golden id, the golden ids of
the schools they name, the agents that point at them, the reviewers' decisions and the district's master
fields. When everything but the user and agent records is as it was for the last package
(``frame_fingerprints.splice_basis`` says so), a row can differ from that package's only if one of the
person's records changed, joined or left, or an agent record of theirs, or a record one of them names,
did. ``changed_people`` compares the version's snapshot of the users and agents with the one it was
committed over, record by record, and gives every golden id such a record had before or has now.
Rebuilding a person who did not change is harmless (the rows are built as a full build builds them);
leaving one out would not be, so every side is counted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from passport_pipelines.sql.engine import connect
from passport_pipelines.sql.quoting import ident, lit

SPLICED_FILE = "users.csv"
# What changes in a snapshot's row whenever a commit changes the record.
CHANGE_COLUMNS = ("golden_id", "deleted", "content_hash", "status", "date_last_modified")


@dataclass(frozen=True)
class ChangedRecords:
    """The user and agent records added, changed or removed between two snapshots (``changed_records``)."""

    users: pa.Table  # source, sourced_id, now_id, before_id
    agents: pa.Table  # source, sourced_id, now_id, before_id, now_/before_user_sourced_id, now_/before_agent_sourced_id


def changed_records(snapshot: Path, base: Path) -> ChangedRecords:
    """The user and agent records that differ between the snapshots ``base`` and ``snapshot``. On a
    connection of its own: a delivery starts it on the other core while it reads the store's keys."""
    con = connect()
    try:
        return ChangedRecords(users=_changed_records(con, "users", snapshot, base),
                              agents=_changed_records(con, "agents", snapshot, base,
                                                      also=("user_sourced_id", "agent_sourced_id")))
    finally:
        con.close()


def changed_people(con: duckdb.DuckDBPyConnection, changed: ChangedRecords, snapshot: Path, user_keys: str) -> pa.Array:
    """The golden ids whose users.csv row may differ between the two snapshots of ``changed``
    (``snapshot`` the later): of every user record added, changed (its content, golden id or deletion) or
    removed between them, its golden id in each and in ``user_keys`` (a relation of the current keys,
    ``(source, sourced_id, golden_id)``); of every user with an agent among those records; and of every
    user an agent record added, changed or removed belongs to."""
    con.register("changed__users", changed.users)
    con.register("changed__agents", changed.agents)
    try:
        agents = _parquet(snapshot / "agents.parquet")
        return con.execute(f"""
            SELECT now_id AS golden_id FROM changed__users WHERE now_id IS NOT NULL
            UNION SELECT before_id FROM changed__users WHERE before_id IS NOT NULL
            UNION SELECT k.golden_id FROM {user_keys} AS k
                SEMI JOIN changed__users AS c ON c.source = k.source AND c.sourced_id = k.sourced_id
            UNION SELECT k.golden_id FROM {agents} AS a
                SEMI JOIN changed__users AS c ON c.source = a.source AND c.sourced_id = a.agent_sourced_id
                JOIN {user_keys} AS k ON k.source = a.source AND k.sourced_id = a.user_sourced_id
            UNION SELECT k.golden_id FROM changed__agents AS a
                JOIN {user_keys} AS k ON k.source = a.source AND k.sourced_id = a.now_user_sourced_id
            UNION SELECT k.golden_id FROM changed__agents AS a
                JOIN {user_keys} AS k ON k.source = a.source AND k.sourced_id = a.before_user_sourced_id
            ORDER BY 1""").to_arrow_table().column(0).combine_chunks()
    finally:
        con.unregister("changed__users")
        con.unregister("changed__agents")


def _changed_records(con: duckdb.DuckDBPyConnection, entity: str, snapshot: Path, base: Path,
                     also: tuple[str, ...] = ()) -> pa.Table:
    """The records added, changed or removed between the two snapshots, with their golden ids (``now_id``,
    ``before_id``) and the ``also`` columns in each (``now_<column>``, ``before_<column>``)."""
    now, before = _parquet(snapshot / f"{entity}.parquet"), _parquet(base / f"{entity}.parquet")
    if os.path.samefile(snapshot / f"{entity}.parquet", base / f"{entity}.parquet"):
        before = now  # a commit that did not change the entity links its file: nothing to compare
    # Every commit that changes a record's content changes its content hash (that is how the change set
    # finds it), so a handful of narrow columns tell a changed record without reading the wide ones.
    differs = " OR ".join(f"n.{ident(c)} IS DISTINCT FROM b.{ident(c)}" for c in (*CHANGE_COLUMNS, *also))
    sides = ", ".join(f"n.{ident(c)} AS {ident('now_' + c)}, b.{ident(c)} AS {ident('before_' + c)}"
                      for c in also)
    return con.execute(f"""
        SELECT coalesce(n.source, b.source) AS source, coalesce(n.sourced_id, b.sourced_id) AS sourced_id,
               n.golden_id AS now_id, b.golden_id AS before_id{', ' + sides if sides else ''}
        FROM {now} AS n FULL JOIN {before} AS b ON n.source = b.source AND n.sourced_id = b.sourced_id
        WHERE {"false" if before == now else f"n.sourced_id IS NULL OR b.sourced_id IS NULL OR {differs}"}
        """).to_arrow_table()


def _parquet(path: Path) -> str:
    return f"read_parquet({lit(str(path))})"
