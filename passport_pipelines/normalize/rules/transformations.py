"""Transformation rules (``config/transform_rules.py``) applied to a canonical table in DuckDB.

Every operation of every rule (``transform_operations.py``) is one projection layer,
``SELECT * REPLACE (<op> AS field)``, stacked into a single statement: DuckDB streams the layers in
one vectorized pass, a rule sees the values earlier rules produced, and no expression is written
(or computed) twice. Each rule adds a ``__changed_<n>`` flag, counted for the run's metadata.

Rules only need another pass when they read or write what a ``unique`` rule settles. A pass is
written one of two ways, whichever moves fewer values:

* **rewritten**: a pass that sets several fields (or maps attributes) rewrites the table from its
  own rows (``CREATE OR REPLACE``, the old one freed). Updating most rows of several columns in
  place costs more: DuckDB keeps every updated value as a version on the side.
* **updated**: a pass that sets one field computes a narrow stage table (row id, the field, its
  flags) and updates that field in the rows that changed: copying a wide table for one column
  costs three times as much.

A ``unique`` rule's collisions are resolved (``unique_values.py``) in the rewritten table or the
stage, before the flags are counted."""

from __future__ import annotations

from typing import Callable

import duckdb
import pyarrow as pa

from passport_pipelines.config.transform_rules import TransformRule
from passport_pipelines.normalize.rules.in_place import rewritten_table
from passport_pipelines.normalize.rules.transform_operations import operations
from passport_pipelines.normalize.rules.unique_values import resolve_unique
from passport_pipelines.normalize.sql_models import content_hash_sql
from passport_pipelines.sql.blank_values import is_blank
from passport_pipelines.sql.quoting import ident

Taken = Callable[[str], pa.Array | pa.Table | None] | None


def _check_columns(have: list[str], entity: str, rules: list[TransformRule]) -> None:
    for index, rule in enumerate(rules):
        missing = [c for c in [rule.field, *rule.placeholders()] if c not in have]
        if missing:
            raise ValueError(f"transforms.{entity}[{index}] (field {rule.field!r}) names "
                             f"{', '.join(missing)}, not a column of the {entity} table")


def _independent(rule: TransformRule, unique: TransformRule) -> bool:
    """Whether ``rule``, written after ``unique``, comes out the same computed before the unique
    value is settled: it neither reads nor writes that field."""
    return not rule.unique and unique.field not in (rule.field, *rule.placeholders())


def _passes(rules: list[TransformRule]) -> list[list[tuple[int, TransformRule]]]:
    """The rules numbered and cut into passes, each ending at its ``unique`` rule's settlement: a
    later rule needs the settled value only when it reads or writes that field, so the run of
    rules right after a ``unique`` rule that do neither (a phone default after the usernames) is
    computed in the same pass rather than in a rewrite of its own."""
    passes, current, closing = [], [], None
    for number, rule in enumerate(rules):
        if closing is not None and not _independent(rule, closing):
            passes.append(current)
            current, closing = [], None
        current.append((number, rule))
        if rule.unique:
            closing = rule
    return passes + ([current] if current else [])


class _Pass:
    """One pass as one SELECT: ``base`` with the mapping and every rule's layers over it."""

    def __init__(self, entity: str, numbered: list[tuple[int, TransformRule]], mapping: list[str], base: str):
        self.unique = next(((n, r) for n, r in numbered if r.unique), None)
        self.fields = list(dict.fromkeys(ident(r.field) for _, r in numbered))
        self.helpers: list[str] = []  # flag columns, and the unique rule's value before
        self.counted: list[tuple[str, str]] = []  # (rule key, count of the values it changed)
        self.changed: list[str] = []  # per rule, whether it changed the row
        sql = f"SELECT * REPLACE ({', '.join(mapping)}) FROM ({base})" if mapping else base
        for number, rule in numbered:
            f, before = ident(rule.field), f"__before_{number}"
            sql = f"SELECT *, {f} AS {before} FROM ({sql})"
            for op in operations(rule):
                sql = f"SELECT * REPLACE ({op} AS {f}) FROM ({sql})"
            if rule.only_if_blank:
                sql = f"SELECT * REPLACE (CASE WHEN {is_blank(before)} THEN {f} ELSE {before} END AS {f}) FROM ({sql})"
            key = f"{entity}[{number}].{rule.field}"
            if rule.unique:  # compared with the value before once the settled value is known
                self.helpers.append(before)
                self.changed.append(f"{f} IS DISTINCT FROM {before}")
            else:
                sql = (f"SELECT * EXCLUDE ({before}), ({f} IS DISTINCT FROM {before}) AS __changed_{number} "
                       f"FROM ({sql})")
                self.helpers.append(f"__changed_{number}")
                self.changed.append(f"__changed_{number}")
            self.counted.append((key, f"count_if({self.changed[-1]})"))
        self.sql = sql

    def settle(self, con: duckdb.DuckDBPyConnection, table: str, taken: Taken) -> None:
        """The unique rule's collisions resolved in ``table`` (which has its rows' sourced_id)."""
        if self.unique is None:
            return
        number, rule = self.unique
        eligible = is_blank(f"__before_{number}") if rule.only_if_blank else "true"
        settled = resolve_unique(con, table, rule.field, eligible, taken(rule.field) if taken else None)
        con.execute(f"UPDATE {table} SET {ident(rule.field)} = d.value FROM {settled} AS d WHERE {table}.rowid = d.rid")
        con.execute(f"DROP TABLE {settled}")

    def count(self, con: duckdb.DuckDBPyConnection, table: str) -> dict[str, int]:
        if not self.counted:
            return {}
        counts = con.execute(f"SELECT {', '.join(c for _, c in self.counted)} FROM {table}").fetchone()
        return {key: int(n) for (key, _), n in zip(self.counted, counts)}


def _rewritten(con: duckdb.DuckDBPyConnection, source: str, table: str, entity: str,
               numbered: list[tuple[int, TransformRule]], mapping: list[str], taken: Taken) -> dict[str, int]:
    """``table`` rewritten from ``source`` with the pass's values; the flags counted, then dropped."""
    one = _Pass(entity, numbered, mapping, f"SELECT * FROM {source}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {one.sql}")
    one.settle(con, table, taken)
    counts = one.count(con, table)
    for helper in one.helpers:  # a column dropped is metadata only: the rows are not rewritten
        con.execute(f"ALTER TABLE {table} DROP COLUMN {helper}")
    return counts


def _updated(con: duckdb.DuckDBPyConnection, table: str, entity: str,
             numbered: list[tuple[int, TransformRule]], taken: Taken) -> dict[str, int]:
    """The pass's one field computed into a stage table and written back where a rule changed it."""
    one = _Pass(entity, numbered, [], f"SELECT rowid AS __rid, * FROM {table}")
    stage, f = f"__transform_{entity}", one.fields[0]
    con.execute(f"CREATE OR REPLACE TEMP TABLE {stage} AS "
                f"SELECT __rid, sourced_id, {f}, {', '.join(one.helpers)} FROM ({one.sql})")
    one.settle(con, stage, taken)
    counts = one.count(con, stage)
    if any(counts.values()):  # in row order, as the stage holds them: each block is touched once
        con.execute(f"UPDATE {table} SET {f} = s.{f} FROM (SELECT __rid, {f} FROM {stage} "
                    f"WHERE {' OR '.join(one.changed)}) AS s WHERE {table}.rowid = s.__rid")
    con.execute(f"DROP TABLE {stage}")
    return counts


def apply_transforms(con: duckdb.DuckDBPyConnection, relation: str, entity: str, rules: list[TransformRule], *,
                     taken: Taken = None,
                     mapping: list[str] | None = None, rehash: bool = True) -> tuple[str, dict[str, int]]:
    """Apply the rules to the rows of ``relation``; return the table holding the result (see
    ``rewritten_table``: the runner's table itself, same columns in the same order) and, per rule,
    how many values it changed, keyed as the rule's place in the integration file:
    ``"users[4].username"`` is the fifth rule of users.

    ``mapping`` (``attributes.attribute_mapping``) is applied first, in the same rewrite.
    ``taken(field)`` gives the values a ``unique`` rule must avoid (see ``resolve_unique``).
    ``rehash=False`` leaves the content hash to a caller that recomputes it after later rules
    anyway (it costs ~0.4 s per million rows)."""
    if not rules and not mapping:
        return relation, {}
    have = [row[0] for row in con.execute(f"DESCRIBE {relation}").fetchall()]
    _check_columns(have, entity, rules)
    table = rewritten_table(con, relation, f"transformed__{entity}")
    counts: dict[str, int] = {}
    source = relation
    for number, numbered in enumerate(_passes(rules) or [[]]):
        given = mapping if number == 0 else []
        if source == table and not given and len({rule.field for _, rule in numbered}) == 1:
            counts.update(_updated(con, table, entity, numbered, taken))
        else:
            counts.update(_rewritten(con, source, table, entity, numbered, given, taken))
        source = table
    if rehash and "content_hash" in have:
        con.execute(f"UPDATE {table} SET content_hash = {content_hash_sql(entity)}")
    return table, counts
