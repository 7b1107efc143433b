"""Golden people: one delivered row per person, built from every record that the person's golden id
gathers, attribute by attribute (master fields, ``config/master_fields.py``), with lineage.

Works on the delivered view (``delivery/delivered_ids.py``), where ids and references are golden ids
already: a person's records share ``sourced_id`` there, and each record's references were translated
in its own source's id space before the records meet. A golden id with one record passes through
untouched (nearly everyone); only merged people are aggregated.

Fields taken from a review's secondary record (``duplicates resolve --take``) override the choice.
"""

from __future__ import annotations

import duckdb

from passport_pipelines.config.master_fields import source_order
from passport_pipelines.model import entities
from passport_pipelines.sql.quoting import ident, lit

PERSON_ENTITIES = ("users", "demographics")


def _rank(order: list[str]) -> str:
    return "CASE source " + " ".join(f"WHEN {lit(s)} THEN {i}" for i, s in enumerate(order)) + \
        f" ELSE {len(order)} END"


def _ties(entity: str) -> str:
    content = [c for c in entities.content_columns(entity) if c != "extensions"]
    completeness = " + ".join(f"CAST({ident(c)} IS NOT NULL AS INTEGER)" for c in content)
    return f"-epoch(coalesce(TRY_CAST(date_last_modified AS TIMESTAMP), TIMESTAMP '1970-01-01')), -({completeness})"


def choice_key(entity: str, col: str, *, master_fields: dict, sources: list[str]) -> str:
    """The ordering of a person's records for one attribute: master-field rank of the source (a
    column that is no attribute, like status, follows the ``"*"`` order), then the most recent,
    then the most complete, then the value itself, so every tie has one winner."""
    field = col if col in entities.content_columns(entity) else "*"
    order = source_order(master_fields, sources, entity, field)
    return f"[{_rank(order)}, {_ties(entity)}, hash({ident(col)})]"


def golden_people_view(con: duckdb.DuckDBPyConnection, entity: str, view: str, *, master_fields: dict,
                       sources: list[str], takes: str | None = None) -> str:
    """A view of ``view`` with one row per ``sourced_id`` (golden id). ``takes``: a relation
    ``(golden_id, field, value)`` of values chosen by a reviewer; its fields win."""
    columns = [c for c in entities.columns(entity)]
    content = set(entities.content_columns(entity))
    chosen = []
    for col in columns:
        key = choice_key(entity, col, master_fields=master_fields, sources=sources)
        if col == "sourced_id":
            chosen.append("sourced_id")
        elif col in content:
            value = f"arg_min({ident(col)}, {key}) FILTER (WHERE {ident(col)} IS NOT NULL)"
            if takes and col not in entities.boolean_columns(entity):
                value = f"coalesce(any_value(tk.value) FILTER (WHERE tk.field = {lit(col)}), {value})"
            chosen.append(f"{value} AS {ident(col)}")
        elif col == "date_last_modified":
            chosen.append("max(date_last_modified) AS date_last_modified")
        else:  # status, source and the like: from the record ranked first overall
            chosen.append(f"arg_min({ident(col)}, {key}) AS {ident(col)}")
    take_join = (f"LEFT JOIN {takes} AS tk ON tk.golden_id = t.sourced_id" if takes else "")
    base, merged, out = f"records__{entity}", f"merged__{entity}", f"golden_people__{entity}"
    # Materialized once: the delivered view joins every reference, and is read twice here.
    con.execute(f"CREATE OR REPLACE TEMP TABLE {base} AS SELECT * FROM {view}")
    _merged_ids(con, merged, base, "sourced_id", takes)
    if con.execute(f"SELECT count(*) FROM {merged}").fetchone()[0] == 0:
        return base  # nobody merged: every record is a person of its own
    # Joins against a small table of merged ids, not IN-subqueries: DuckDB 1.5 can stall on a
    # UNION of NOT IN / IN over the same million-row table.
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {out} AS
        SELECT {', '.join(ident(c) for c in columns)} FROM {base} AS b
        ANTI JOIN {merged} AS m ON m.sourced_id = b.sourced_id
        UNION ALL
        SELECT {', '.join(chosen)}
        FROM (SELECT b.* FROM {base} AS b SEMI JOIN {merged} AS m ON m.sourced_id = b.sourced_id) AS t {take_join}
        GROUP BY t.sourced_id""")
    return out


def lineage_rows(con: duckdb.DuckDBPyConnection, records: str, *, master_fields: dict, sources: list[str],
                 takes: str | None = None):
    """Per merged person (a golden id with more than one user record, or with fields taken by a
    reviewer): ``golden_id`` and ``lineage``, a JSON object attribute -> ``SOURCE:SOURCED_ID`` of the
    record its value comes from. ``records``: user records with their golden ids (as on record)."""
    pairs = []
    for col in entities.content_columns("users"):
        key = choice_key("users", col, master_fields=master_fields, sources=sources)
        origin = f"arg_min(source || ':' || sourced_id, {key}) FILTER (WHERE {ident(col)} IS NOT NULL)"
        if takes:
            origin = f"coalesce(any_value(tk.record) FILTER (WHERE tk.field = {lit(col)}), {origin})"
        pairs.append(f"{lit(col)}, {origin}")
    take_join = f"LEFT JOIN {takes} AS tk ON tk.golden_id = t.golden_id" if takes else ""
    _merged_ids(con, "merged__lineage", records, "golden_id", takes)
    return con.execute(f"""
        SELECT t.golden_id, CAST(json_object({', '.join(pairs)}) AS VARCHAR) AS lineage
        FROM (SELECT r.* FROM {records} AS r SEMI JOIN merged__lineage AS m ON m.sourced_id = r.golden_id) AS t
        {take_join}
        GROUP BY t.golden_id ORDER BY t.golden_id""").to_arrow_table()


def _merged_ids(con: duckdb.DuckDBPyConnection, table: str, records: str, key: str, takes: str | None) -> None:
    """``table(sourced_id)``: the golden ids of people with more than one record, or with taken fields."""
    taken = f" UNION SELECT golden_id FROM {takes}" if takes else ""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS "
                f"SELECT {key} AS sourced_id FROM {records} GROUP BY {key} HAVING count(*) > 1{taken}")
