"""The rules change values in the models' own tables rather than copy a million-row table."""

from __future__ import annotations

import duckdb


def writable_table(con: duckdb.DuckDBPyConnection, relation: str, name: str) -> str:
    """A table of ``relation``'s rows the rules may change in place: ``relation`` itself when it is
    one (the runner's model tables, which nothing reads after the rules), else a copy ``name``."""
    is_table = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [relation]).fetchone()[0]
    if is_table:
        return relation
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {relation}")
    return name
