"""The rules rewrite the models' own tables rather than keep a second copy of a million-row table."""

from __future__ import annotations

import duckdb


def rewritten_table(con: duckdb.DuckDBPyConnection, relation: str, name: str) -> str:
    """The table the rules' rewrite of ``relation`` goes to: ``relation`` itself when it is a table
    (the runner's model tables, which nothing reads after the rules: it is replaced, and its memory
    freed), else a new table ``name`` (a view, and what it reads, stay as they are)."""
    is_table = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [relation]).fetchone()[0]
    return relation if is_table else name
