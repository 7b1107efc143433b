"""Values from integration files written into generated SQL: always as quoted literals."""

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
    return '"' + name.replace('"', '""') + '"'


def text_list(values) -> str:
    return "[" + ", ".join(lit(str(v)) for v in values) + "]"
