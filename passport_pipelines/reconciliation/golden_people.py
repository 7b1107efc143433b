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
from passport_pipelines.transforms.sql_text import ident, lit

PERSON_ENTITIES = ("users", "demographics")


def _rank(order: list[str]) -> str:
    return "CASE source " + " ".join(f"WHEN {lit(s)} THEN {i}" for i, s in enumerate(order)) + \
        f" ELSE {len(order)} END"


def golden_people_view(con: duckdb.DuckDBPyConnection, entity: str, view: str, *, master_fields: dict,
                       sources: list[str], takes: str | None = None) -> str:
    """A view of ``view`` with one row per ``sourced_id`` (golden id). ``takes``: a relation
    ``(golden_id, field, value)`` of values chosen by a reviewer; its fields win."""
    columns = [c for c in entities.columns(entity)]
    content = [c for c in entities.content_columns(entity) if c != "extensions"]
    completeness = " + ".join(f"CAST({ident(c)} IS NOT NULL AS INTEGER)" for c in content)
    # Most recent, then most complete, then the smallest record: every tie has one winner.
    ties = f"-epoch(coalesce(TRY_CAST(date_last_modified AS TIMESTAMP), TIMESTAMP '1970-01-01')), -({completeness})"
    chosen = []
    for col in columns:
        if col == "sourced_id":
            chosen.append("sourced_id")
        elif col in content or col == "extensions":
            key = f"[{_rank(source_order(master_fields, sources, entity, col))}, {ties}]"
            value = f"arg_min({ident(col)}, {key}) FILTER (WHERE {ident(col)} IS NOT NULL)"
            if takes:
                value = (f"coalesce(any_value(tk.value) FILTER (WHERE tk.field = {lit(col)}), {value})"
                         if col not in entities.boolean_columns(entity) else value)
            chosen.append(f"{value} AS {ident(col)}")
        elif col == "date_last_modified":
            chosen.append("max(date_last_modified) AS date_last_modified")
        else:  # status, source and the like: from the record ranked first overall
            chosen.append(f"arg_min({ident(col)}, [{_rank(source_order(master_fields, sources, entity, '*'))}, "
                          f"{ties}]) AS {ident(col)}")
    take_join = (f"LEFT JOIN {takes} AS tk ON tk.golden_id = t.sourced_id" if takes else "")
    base, out = f"records__{entity}", f"golden_people__{entity}"
    # Materialized once: the delivered view joins every reference, and is read three times here.
    con.execute(f"CREATE OR REPLACE TEMP TABLE {base} AS SELECT * FROM {view}")
    merged = f"(SELECT sourced_id FROM {base} GROUP BY sourced_id HAVING count(*) > 1" + \
        (f" UNION SELECT golden_id FROM {takes})" if takes else ")")
    con.execute(f"""CREATE OR REPLACE TEMP VIEW {out} AS
        SELECT {', '.join(ident(c) for c in columns)} FROM {base} WHERE sourced_id NOT IN {merged}
        UNION ALL
        SELECT {', '.join(chosen)}
        FROM (SELECT * FROM {base} WHERE sourced_id IN {merged}) AS t {take_join}
        GROUP BY sourced_id""")
    return out
