"""The person records duplicates are searched among: every current user of the district after this
sync (what is on record, less what the sync deletes, with what it adds and changes), one row each,
with the attributes the domains compare.

Birth date and sex live in demographics, keyed by the user's sourced id; custom attributes (mapped by
the integration's rules) live in the user's ``extensions`` JSON.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from passport_pipelines.model import entities
from passport_pipelines.sql.quoting import ident, lit
from passport_pipelines.store.duplicate_review import RECORD_KEY_SEPARATOR
from passport_pipelines.store.golden_store import GoldenStore

DEMOGRAPHIC_ATTRIBUTES = ("birth_date", "sex")
USER_COLUMNS = frozenset(entities.columns("users"))


def attribute_sql(name: str, alias_users: str, alias_demo: str) -> str:
    """SQL: an attribute of a person, from the users row ``alias_users`` or the demographics row ``alias_demo``."""
    if name in DEMOGRAPHIC_ATTRIBUTES:
        return f"{alias_demo}.{ident(name)}"
    if name in USER_COLUMNS:
        return f"{alias_users}.{ident(name)}"
    # A custom attribute: kept by the rules in the user's extensions.
    return f"json_extract_string({alias_users}.extensions, {lit('$.' + name)})"


def record_key_sql(alias: str) -> str:
    """SQL: the record key of the row ``alias`` (source and sourced id, as the review queue keys pairs)."""
    return f"{alias}.source || {lit(RECORD_KEY_SEPARATOR)} || {alias}.sourced_id"


def _current(con: duckdb.DuckDBPyConnection, entity: str, stored: str, changes: list[Path], columns: list[str]) -> str:
    """Stored current rows, less those the sync deletes or changes, plus the sync's upserts."""
    upserts = ", ".join(lit(str(f / f"upserts__{entity}.parquet")) for f in changes)
    deletes = ", ".join(lit(str(f / f"deletes__{entity}.parquet")) for f in changes)
    cols = ", ".join(ident(c) for c in columns)
    relation = f"people__{entity}"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {relation} AS
        SELECT {cols}, false AS is_new, true AS on_record FROM {stored} AS s
        WHERE NOT EXISTS (SELECT 1 FROM read_parquet([{upserts}]) AS u
                          WHERE u.source = s.source AND u.sourced_id = s.sourced_id)
          AND NOT EXISTS (SELECT 1 FROM read_parquet([{deletes}]) AS d
                          WHERE d.source = s.source AND d.sourced_id = s.sourced_id)
        UNION ALL
        SELECT {cols}, true AS is_new, change <> 'added' AS on_record FROM read_parquet([{upserts}])""")
    return relation


def person_records(con: duckdb.DuckDBPyConnection, store: GoldenStore, *, district: str, school_year: str,
                   change_folders: list[Path], attributes: list[str]) -> pa.Table:
    """``record_key`` (source and sourced id joined by ``RECORD_KEY_SEPARATOR``, as the review queue
    keys its pairs), ``source, sourced_id, golden_id, is_new, on_record`` and ``attributes``, one row
    per user current after this sync. ``is_new``: added, restored or changed by it (what an
    incremental search compares); ``on_record``: its golden id is in the store already."""
    # Only the columns compared: a million people's full rows would take longer to read than to match.
    wanted = ["golden_id", "source", "sourced_id",
              *[c for c in entities.columns("users") if c in attributes and c not in ("source", "sourced_id")]]
    if any(a not in USER_COLUMNS and a not in DEMOGRAPHIC_ATTRIBUTES for a in attributes):
        wanted.append("extensions")
    con.register("stored__people_users", store.current_records(district, school_year, "users", wanted))
    users = _current(con, "users", "stored__people_users", change_folders, wanted)
    con.unregister("stored__people_users")
    wanted_demographics = [a for a in attributes if a in DEMOGRAPHIC_ATTRIBUTES]
    join = ""
    if wanted_demographics:
        con.register("stored__people_demographics", store.current_records(
            district, school_year, "demographics", ["source", "sourced_id", *DEMOGRAPHIC_ATTRIBUTES]))
        demographics = _current(con, "demographics", "stored__people_demographics", change_folders,
                                ["source", "sourced_id", *DEMOGRAPHIC_ATTRIBUTES])
        con.unregister("stored__people_demographics")
        join = f"LEFT JOIN {demographics} AS d ON d.source = u.source AND d.sourced_id = u.sourced_id"
    selected = ", ".join(f"CAST({attribute_sql(a, 'u', 'd')} AS VARCHAR) AS {ident(a)}" for a in attributes)
    return con.execute(f"""
        SELECT {record_key_sql('u')} AS record_key, u.source, u.sourced_id, u.golden_id,
               u.is_new, u.on_record, {selected}
        FROM {users} AS u {join}""").to_arrow_table()  # unordered: the engine needs no order
