"""Delivered ids are golden ids: stable across syncs and unique across sources.

Every sourced id in a golden table, and every reference to another record, is replaced by
that record's golden id before export. References that resolve to nothing become blank.
"""

from __future__ import annotations

import duckdb

from passport_pipelines.model import entities
from passport_pipelines.sql.quoting import ident

# The entities other records point at: only their (source, sourced_id, golden_id) maps are
# needed to translate references, never their full rows.
REFERENCED = sorted({r.entity for refs in entities.REFERENCES.values() for r in refs})


def delivered_view(con: duckdb.DuckDBPyConnection, entity: str, relation: str, keys: dict[str, str]) -> str:
    """A view of ``relation`` (golden_id + canonical columns of ``entity``) with golden ids for
    its own id and its references; ``keys``: entity -> relation of (source, sourced_id, golden_id)."""
    refs = {r.column: r for r in entities.REFERENCES.get(entity, ())}
    select, joins = [], []
    for i, col in enumerate(entities.columns(entity)):
        ref = refs.get(col)
        c = ident(col)
        if col == "sourced_id" and ref is None:
            select.append("t.golden_id AS sourced_id")
        elif ref is None:
            select.append(f"t.{c}")
        elif ref.is_list:
            # A list of one id (most users have one school) maps like a single reference; longer ones are
            # split, each id mapped, and joined back in their order, as one set operation. Grouping every
            # row the second way cost most of a million students' users file.
            one, alias = f"r{i}", f"l{i}"
            joins.append(f"LEFT JOIN {keys[ref.entity]} AS {one} "
                         f"ON {one}.source = t.source AND {one}.sourced_id = t.{c}")
            joins.append(
                f"LEFT JOIN (SELECT x.source, x.sourced_id, string_agg(g.golden_id, ',' ORDER BY x.pos) AS mapped "
                f"FROM (SELECT source, sourced_id, unnest(string_split({c}, ',')) AS sid, "
                f"generate_subscripts(string_split({c}, ','), 1) AS pos FROM {relation} WHERE contains({c}, ',')) AS x "
                f"JOIN {keys[ref.entity]} AS g ON g.source = x.source AND g.sourced_id = x.sid "
                f"GROUP BY x.source, x.sourced_id) AS {alias} "
                f"ON {alias}.source = t.source AND {alias}.sourced_id = t.sourced_id")
            select.append(f"CASE WHEN contains(t.{c}, ',') THEN {alias}.mapped ELSE {one}.golden_id END AS {c}")
        else:
            alias = f"r{i}"
            joins.append(f"LEFT JOIN {keys[ref.entity]} AS {alias} "
                         f"ON {alias}.source = t.source AND {alias}.sourced_id = t.{c}")
            select.append(f"{alias}.golden_id AS {c}")
    view = f"delivered__{entity}"
    con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT {', '.join(select)} FROM {relation} AS t "
                + " ".join(joins))
    return view
