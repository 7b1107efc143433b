"""One page of a collection from its snapshot table.

Without a filter, in ``sourcedId`` order (the default, or ``sort=sourcedId``), a page is a rank range:
a keyset read whatever the offset. A filter, another sort or a nested endpoint's condition selects
first, then pages the (smaller) result with LIMIT/OFFSET. The JSON of each record is assembled in
SQL from the fragments of the fields asked for; Python only joins the page's records.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from passport_pipelines.rest_provider.query_params import CollectionQuery
from passport_pipelines.rest_provider.record_shapes import Shape
from passport_pipelines.sql.quoting import ident, json_member_path, lit

_OPS = {"=": "=", "!=": "IS DISTINCT FROM", ">": ">", ">=": ">=", "<": "<", "<=": "<="}


@dataclass(frozen=True)
class Page:
    body: str  # the JSON records, comma-joined
    count: int
    total: int


def record_sql(shape: Shape, fields: list[str] | None) -> str:
    """The JSON of a record: whole, or only ``fields`` (checked names), picked out of the whole one."""
    if not fields:
        return "j_record"
    parts = [lit(f'"{n}":') + f" || json_extract(j_record, {lit(json_member_path(n))})::VARCHAR" for n in fields]
    return "'{' || concat_ws(',', " + ", ".join(parts) + ") || '}'"


def _where(query: CollectionQuery, extra: tuple[str, list] | None) -> tuple[str, list]:
    clauses, params = ([] if query.with_deleted else ["status = 'active'"]), []
    if query.filter:
        ors = []
        for group in query.filter:
            ands = []
            for p in group:
                if p.op == "~":
                    ands.append(f"contains(lower({ident(p.column)}), lower(?))")
                else:
                    ands.append(f"{ident(p.column)} {_OPS[p.op]} ?")
                params.append(p.value)
            ors.append("(" + " AND ".join(ands) + ")")
        clauses.append("(" + " OR ".join(ors) + ")")
    if extra is not None:
        clauses.append(extra[0])
        params += extra[1]
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def active_total(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.execute(f"SELECT coalesce(max(rank), 0) FROM {ident(table)}").fetchone()[0])


def read_page(con: duckdb.DuckDBPyConnection, shape: Shape, query: CollectionQuery, *, total_of_all: int,
              extra: tuple[str, list] | None = None) -> Page:
    """``extra``: a nested endpoint's SQL condition and its parameters. ``total_of_all``: the active
    records of the table (known once per snapshot)."""
    table = ident(shape.collection)
    record = record_sql(shape, query.fields)
    keyset = not query.filter and extra is None and query.sort in (None, "sourcedId")
    if keyset:
        total = total_of_all
        if query.descending:
            high = total - query.offset
            low, high = max(1, high - query.limit + 1), high
        else:
            low, high = query.offset + 1, query.offset + query.limit
        rows = con.execute(f"SELECT {record} FROM {table} WHERE rank BETWEEN ? AND ? ORDER BY rank "
                           f"{'DESC' if query.descending else 'ASC'}", [low, high]).fetchall()
    else:
        where, params = _where(query, extra)
        total = int(con.execute(f"SELECT count(*) FROM {table}{where}", params).fetchone()[0])
        order = ident(query.sort) if query.sort else '"sourcedId"'
        direction = "DESC" if query.descending else "ASC"
        rows = con.execute(f"SELECT {record} FROM {table}{where} ORDER BY {order} {direction} NULLS LAST, "
                           f"\"sourcedId\" {direction} LIMIT ? OFFSET ?", [*params, query.limit, query.offset]
                           ).fetchall()
    return Page(",".join(r[0] for r in rows), len(rows), total)


def read_one(con: duckdb.DuckDBPyConnection, shape: Shape, sourced_id: str, fields: list[str] | None) -> str | None:
    row = con.execute(f"SELECT {record_sql(shape, fields)} FROM {ident(shape.collection)} "
                      "WHERE \"sourcedId\" = ? AND status = 'active'", [sourced_id]).fetchone()
    return row[0] if row else None
