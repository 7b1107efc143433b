"""Names and values written into generated SQL, always quoted: the one place SQL text is quoted.

Dependency-free on purpose, so that any part of the package may import it. Standard SQL: DuckDB,
SQLite and PostgreSQL read these forms alike.
"""

from __future__ import annotations


def lit(value) -> str:
    """A SQL literal: text quoted with its quotes doubled, NULL for None, booleans and numbers as is."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def ident(name: str) -> str:
    """A quoted identifier (a table, column or index name), its double quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def lit_list(values) -> str:
    """Values as the items of an SQL ``IN (...)`` list: ``'a', 'b'``, each a ``lit``."""
    return ", ".join(lit(v) for v in values)


def text_list(values) -> str:
    """A DuckDB list literal of texts: ``['a', 'b']``, every value as quoted text."""
    return "[" + ", ".join(lit(str(v)) for v in values) + "]"


def json_member_path(key: str) -> str:
    """The JSON path of the member named ``key`` of a JSON object (``$."a b"``), its double quotes
    escaped; a text, to be written into SQL with ``lit``."""
    return '$."' + key.replace('"', '\\"') + '"'
