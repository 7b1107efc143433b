"""Attribute mapping: canonical fields, or named custom attributes, taken from another field or
from an extension field (OneRoster ``metadata.*`` columns, PowerSchool extension tables). Custom
attributes are kept in the row's ``extensions`` object, and delivered as ``metadata.<name>``."""

from __future__ import annotations

import duckdb

from passport_pipelines.config.rules import extension_key
from passport_pipelines.model import entities
from passport_pipelines.rules.in_place import writable_table
from passport_pipelines.transforms.sql_text import ident, lit


def _value_sql(expr: str) -> str:
    key = extension_key(expr)
    if key is None:
        return f"CAST({ident(expr)} AS VARCHAR)"
    path = '$."' + key.replace('"', '\\"') + '"'
    return f"json_extract_string(extensions, {lit(path)})"


def map_attributes(con: duckdb.DuckDBPyConnection, relation: str, entity: str, mapping: dict[str, str]) -> str:
    """Each target set from its source expression; returns the new relation."""
    canonical = set(entities.columns(entity))
    booleans = set(entities.boolean_columns(entity))
    sets = []
    for target, expr in mapping.items():
        value = _value_sql(expr)
        if target in canonical:
            cast = f"CAST({value} AS BOOLEAN)" if target in booleans else value
            sets.append(f"{ident(target)} = {cast}")
    customs = [(t, _value_sql(e)) for t, e in mapping.items() if t not in canonical]
    if customs:
        # Custom attributes land in extensions; the values read here come from the old extensions,
        # so they are computed before the object is rewritten.
        merged = "coalesce(extensions, '{}')"
        for name, value in customs:
            merged = (f"CASE WHEN {value} IS NULL THEN {merged} ELSE "
                      f"CAST(json_merge_patch({merged}, json_object({lit(name)}, {value})) AS VARCHAR) END")
        sets.append(f"extensions = nullif({merged}, '{{}}')")
    # In place, like the transforms after it: every SET reads the values from before the mapping.
    table = writable_table(con, relation, f"attributes__{entity}")
    con.execute(f"UPDATE {table} SET {', '.join(sets)}")
    return table
