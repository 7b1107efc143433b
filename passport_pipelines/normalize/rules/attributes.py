"""Attribute mapping: canonical fields, or named custom attributes, taken from another field or
from an extension field (OneRoster ``metadata.*`` columns, PowerSchool extension tables). Custom
attributes are kept in the row's ``extensions`` object, and delivered as ``metadata.<name>``.
The mapping is the first layer of the table's rewrite (``transformations.py``): the transforms see
the mapped values, and a million-row table is rewritten once for both."""

from __future__ import annotations

import duckdb

from passport_pipelines.config.rules import extension_key
from passport_pipelines.model import entities
from passport_pipelines.normalize.data_errors import DataValueError
from passport_pipelines.normalize.rules.field_values import extension_value_sql
from passport_pipelines.sql.quoting import ident, lit


def _value_sql(expr: str) -> str:
    key = extension_key(expr)
    return f"CAST({ident(expr)} AS VARCHAR)" if key is None else extension_value_sql(key)


def attribute_mapping(entity: str, mapping: dict[str, str]) -> list[str]:
    """The mapping as the items of one ``SELECT * REPLACE (...)``: each target computed from the
    row as the models gave it (a target read by another mapping gives its value from before)."""
    canonical = set(entities.columns(entity))
    booleans = set(entities.boolean_columns(entity))
    replaced = []
    for target, expr in mapping.items():
        value = _value_sql(expr)
        if target in canonical:
            cast = f"CAST({value} AS BOOLEAN)" if target in booleans else value
            replaced.append(f"{cast} AS {ident(target)}")
    customs = [(t, _value_sql(e)) for t, e in mapping.items() if t not in canonical]
    if customs:
        # Custom attributes land in extensions; the values read here come from the old extensions,
        # so they are computed before the object is rewritten.
        merged = "coalesce(extensions, '{}')"
        for name, value in customs:
            merged = (f"CASE WHEN {value} IS NULL THEN {merged} ELSE "
                      f"CAST(json_merge_patch({merged}, json_object({lit(name)}, {value})) AS VARCHAR) END")
        # A row without extensions (most rows) gets a new object, not a merge: a third of the cost.
        # Merged into nothing, a custom attribute without a value leaves no key.
        pairs = ", ".join(f"{lit(name)}, {value}" for name, value in customs)
        fresh = (f"CASE WHEN {customs[0][1]} IS NOT NULL THEN CAST(json_object({pairs}) AS VARCHAR) END"
                 if len(customs) == 1 else f"CAST(json_merge_patch('{{}}', json_object({pairs})) AS VARCHAR)")
        replaced.append(f"nullif(CASE WHEN extensions IS NULL THEN {fresh} ELSE {merged} END, '{{}}') AS extensions")
    return replaced


def check_true_false_values(con: duckdb.DuckDBPyConnection, relation: str, entity: str, mapping: dict[str, str],
                            source: str) -> None:
    """DataValueError naming the source, column and rule when a field mapped into a true/false
    column holds values that are not true/false (DuckDB's words: true/false, t/f, yes/no, y/n,
    1/0), counted in one scan; the values themselves are never repeated. Run before the mapping,
    whose CAST would otherwise fail with DuckDB's message, which quotes the first such value."""
    booleans = [(target, expr) for target, expr in mapping.items() if target in entities.boolean_columns(entity)]
    if not booleans:
        return
    counts = con.execute("SELECT " + ", ".join(
        f"count(*) FILTER (WHERE {_value_sql(expr)} IS NOT NULL AND TRY_CAST({_value_sql(expr)} AS BOOLEAN) IS NULL)"
        for _, expr in booleans) + f" FROM {relation}").fetchone()
    for (target, expr), bad in zip(booleans, counts):
        if bad:
            raise DataValueError(
                f"source {source}: rule attributes.{entity}.{target} maps {expr} into the true/false column "
                f"{entity}.{target}, but {bad} row(s) of {entity} hold a value there that is not true/false "
                "(true, false, yes, no, 1, 0); the values are withheld, as they are the district's data")
