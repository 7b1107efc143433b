"""Delivered ids are golden ids: stable across syncs and unique across sources.

Every sourced id in the golden tables, and every reference to another record, is replaced
by that record's golden id before export. References that resolve to nothing become blank.
"""

from __future__ import annotations

import duckdb

from passport_pipelines.model import entities


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def with_delivered_ids(con: duckdb.DuckDBPyConnection, current: dict[str, str]) -> dict[str, str]:
    """``current``: entity -> relation with golden_id + canonical columns. Returns relations
    whose ids (own and referenced) are golden ids."""
    out = {}
    for entity, relation in current.items():
        refs = {r.column: r for r in entities.REFERENCES.get(entity, ())}
        select = []
        joins = []
        for i, col in enumerate(entities.columns(entity)):
            ref = refs.get(col)
            if col == "sourced_id" and ref is None:
                select.append("t.golden_id AS sourced_id")
            elif ref is None:
                select.append(f"t.{_q(col)}")
            elif ref.is_list:
                # Split, map each id, and join back in the original order, as one set operation.
                alias = f"l{i}"
                c = _q(col)
                joins.append(
                    f"LEFT JOIN (SELECT x.source, x.sourced_id, string_agg(g.golden_id, ',' ORDER BY x.pos) AS mapped "
                    f"FROM (SELECT source, sourced_id, unnest(string_split({c}, ',')) AS sid, "
                    f"generate_subscripts(string_split({c}, ','), 1) AS pos FROM {relation} WHERE {c} IS NOT NULL) AS x "
                    f"JOIN {current[ref.entity]} AS g ON g.source = x.source AND g.sourced_id = x.sid "
                    f"GROUP BY x.source, x.sourced_id) AS {alias} "
                    f"ON {alias}.source = t.source AND {alias}.sourced_id = t.sourced_id")
                select.append(f"{alias}.mapped AS {c}")
            else:
                alias = f"r{i}"
                joins.append(f"LEFT JOIN {current[ref.entity]} AS {alias} "
                             f"ON {alias}.source = t.source AND {alias}.sourced_id = t.{_q(col)}")
                select.append(f"{alias}.golden_id AS {_q(col)}")
        view = f"delivered__{entity}"
        con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT {', '.join(select)} FROM {relation} AS t "
                    + " ".join(joins))
        out[entity] = view
    return out
