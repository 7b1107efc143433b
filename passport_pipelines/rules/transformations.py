"""Transformation rules (``config/transform_rules.py``) applied to a canonical table in DuckDB.

Every operation of every rule is one projection layer, ``SELECT * REPLACE (<op> AS field)``,
stacked into a single statement: DuckDB streams the layers in one vectorized pass, a rule sees
the values earlier rules produced, and no expression is written (or computed) twice. A
``unique`` rule ends a pass: its values are materialized and the collisions resolved
(``unique_values.py``) before the next rule, which reads the settled values through a join.
Each rule leaves a ``__changed_<n>`` flag, counted at the end and dropped; the content hash is
recomputed in the same pass.
"""

from __future__ import annotations

from typing import Callable

import duckdb
import pyarrow as pa

from passport_pipelines.config.transform_rules import TransformRule
from passport_pipelines.model import entities
from passport_pipelines.transforms.sql_text import ident, lit, text_list
from passport_pipelines.rules.patterns import template_sql
from passport_pipelines.rules.unique_values import resolve_unique
from passport_pipelines.transforms.runner import content_hash_sql

# Comma-joined list cells (OneRoster's convention): value maps apply item by item.
LIST_COLUMNS = frozenset({"grades", "subjects", "subject_codes", "periods", "user_ids"}
                         | {r.column for refs in entities.REFERENCES.values() for r in refs if r.is_list})

# Title case: each word is capitalized, words being runs between spaces, hyphens, slashes,
# periods and parentheses; a word-initial letter + apostrophe (o'neil, d'asia) is a word of its
# own, so O'Neil and D'Asia come out right while teacher's stays teacher's. Leftmost-first
# alternation (RE2) tries that prefix first only where a word starts.
_TITLE_TOKENS = r"\p{L}['’]|[\s\-/(.]+|[^\s\-/(.]+"
# Letters strip_accents leaves alone (they do not decompose), spelled as usernames spell them;
# folded only in values that still hold a non-ASCII character after strip_accents (rare, and
# the replace() chain is the costly part).
_ASCII_ONE = ("øłđðı", "olddi")
_ASCII_TWO = (("ß", "ss"), ("æ", "ae"), ("œ", "oe"), ("þ", "th"))


def _blank(x: str) -> str:
    return f"(coalesce(trim({x}), '') = '')"


def _title(x: str) -> str:
    words = f"regexp_extract_all(lower({x}), {lit(_TITLE_TOKENS)})"
    return f"array_to_string(list_transform({words}, lambda t: upper(t[1]) || t[2:]), '')"


def _ascii(x: str) -> str:
    plain = f"strip_accents(lower({x}))"
    folded = f"translate({plain}, {lit(_ASCII_ONE[0])}, {lit(_ASCII_ONE[1])})"
    for letter, spelled in _ASCII_TWO:
        folded = f"replace({folded}, {lit(letter)}, {lit(spelled)})"
    guarded = f"CASE WHEN regexp_matches({plain}, '[^\\x00-\\x7F]') THEN {folded} ELSE {plain} END"
    return f"regexp_replace({guarded}, '[^a-z0-9._-]', '', 'g')"


def _value_map(x: str, mapping: dict[str, str | None], is_list: bool) -> str:
    # A CASE, not a MAP literal: DuckDB rebuilds a MAP constant inside a lambda for every
    # row (15x slower on a list column of 1M rows).
    def case(v: str) -> str:
        return f"CASE {v} " + " ".join(f"WHEN {lit(k)} THEN {lit(to)}" for k, to in mapping.items()) + f" ELSE {v} END"
    if not is_list:
        return case(x)
    # An item mapped to null is dropped from the list; an emptied list is NULL.
    return f"nullif(array_to_string(list_transform(string_split({x}, ','), lambda i: {case('i')}), ','), '')"


def operations(rule: TransformRule) -> list[str]:
    """The rule's operations as SQL over its field, in the documented order."""
    f = ident(rule.field)
    ops = []
    if rule.template is not None:
        ops.append(template_sql(rule.template))
    if rule.trim:
        ops.append(f"trim({f})")
    if rule.ascii:
        ops.append(_ascii(f))
    elif rule.case:
        ops.append(_title(f) if rule.case == "title" else f"{rule.case}({f})")
    if rule.regex_replace:
        rx = rule.regex_replace
        flags = "'gi'" if rx.ignore_case else "'g'"  # every match, not just the first
        ops.append(f"regexp_replace({f}, {lit(rx.pattern)}, {lit(rx.replacement)}, {flags})")
    if ops:  # an operation that leaves nothing leaves a blank: NULL, as everywhere in the model
        ops.append(f"nullif({f}, '')")
    if rule.value_map:
        ops.append(_value_map(f, rule.value_map, rule.field in LIST_COLUMNS))
    if rule.date_formats:
        # An unreadable date stays as it was, so that the canonical schema check reports it.
        ops.append(f"coalesce(strftime(try_strptime({f}, {text_list(rule.date_formats)}), '%Y-%m-%d'), {f})")
    if rule.default is not None:
        ops.append(f"CASE WHEN {_blank(f)} THEN {lit(rule.default)} ELSE {f} END")
    return ops


def _check_columns(have: list[str], entity: str, rules: list[TransformRule]) -> None:
    for index, rule in enumerate(rules):
        missing = [c for c in [rule.field, *rule.placeholders()] if c not in have]
        if missing:
            raise ValueError(f"transforms.{entity}[{index}] (field {rule.field!r}) names "
                             f"{', '.join(missing)}, not a column of the {entity} table")


def apply_transforms(con: duckdb.DuckDBPyConnection, relation: str, entity: str, rules: list[TransformRule], *,
                     taken: Callable[[str], pa.Array | pa.Table | None] | None = None,
                     rehash: bool = True) -> tuple[str, dict[str, int]]:
    """Create a temp table with the rules applied (same columns, same order, content hash
    recomputed); return its name and, per rule, how many values it changed, keyed as the
    rule's place in the integration file: ``"users[4].username"`` is the fifth rule of users.

    ``taken(field)`` gives the values a ``unique`` rule must avoid (see ``resolve_unique``).
    ``rehash=False`` leaves the content hash to a caller that recomputes it after later rules
    anyway (it costs ~0.4 s per million rows)."""
    if not rules:
        return relation, {}
    have = [row[0] for row in con.execute(f"DESCRIBE {relation}").fetchall()]
    _check_columns(have, entity, rules)
    sql, stages, flags = f"SELECT * FROM {relation}", [], []
    for number, rule in enumerate(rules):
        f, before = ident(rule.field), f"__before_{number}"
        sql = f"SELECT *, {f} AS {before} FROM ({sql})"
        for op in operations(rule):
            sql = f"SELECT * REPLACE ({op} AS {f}) FROM ({sql})"
        if rule.only_if_blank:
            sql = f"SELECT * REPLACE (CASE WHEN {_blank(before)} THEN {f} ELSE {before} END AS {f}) FROM ({sql})"
        if rule.unique:
            stage = f"__transform_{entity}_{number}"
            con.execute(f"CREATE OR REPLACE TEMP TABLE {stage} AS {sql}")
            stages.append(stage)
            eligible = _blank(before) if rule.only_if_blank else "true"
            settled = resolve_unique(con, stage, rule.field, eligible, taken(rule.field) if taken else None)
            stages.append(settled)
            sql = (f"SELECT s.* REPLACE (coalesce(d.value, s.{f}) AS {f}) FROM {stage} AS s "
                   f"LEFT JOIN {settled} AS d ON d.rid = s.rowid")
        sql = f"SELECT * EXCLUDE ({before}), ({f} IS DISTINCT FROM {before}) AS __changed_{number} FROM ({sql})"
        flags.append((f"{entity}[{number}].{rule.field}", f"__changed_{number}"))
    if rehash and "content_hash" in have:
        sql = f"SELECT * REPLACE ({content_hash_sql(entity)} AS content_hash) FROM ({sql})"
    out = f"transformed__{entity}"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {out} AS {sql}")
    counts = con.execute(f"SELECT {', '.join(f'count_if({flag})' for _, flag in flags)} FROM {out}").fetchone()
    for _, flag in flags:  # a dropped column shares the others' storage: no copy
        con.execute(f"ALTER TABLE {out} DROP COLUMN {flag}")
    for stage in stages:
        con.execute(f"DROP TABLE IF EXISTS {stage}")
    return out, {key: int(n) for (key, _), n in zip(flags, counts)}
