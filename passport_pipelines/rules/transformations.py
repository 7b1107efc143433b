"""Transformation rules (``config/transform_rules.py``) applied to a canonical table in DuckDB.

Every operation of every rule is one projection layer, ``SELECT * REPLACE (<op> AS field)``,
stacked into a single statement: DuckDB streams the layers in one vectorized pass, a rule sees
the values earlier rules produced, and no expression is written (or computed) twice. A pass
rewrites the table once, from its own rows (``CREATE OR REPLACE``, the old one freed), with a
``__changed_<n>`` flag per rule; a ``unique`` rule's collisions are then resolved in it
(``unique_values.py``), the flags counted and dropped. Rules only need another pass when they
read or write what a ``unique`` rule settles. Rewriting the table costs less than updating most
of its rows in place: a DuckDB UPDATE keeps every changed value as a version on the side."""

from __future__ import annotations

from typing import Callable

import duckdb
import pyarrow as pa

from passport_pipelines.config.transform_rules import TransformRule
from passport_pipelines.model import entities
from passport_pipelines.rules.blank_values import is_blank
from passport_pipelines.rules.in_place import rewritten_table
from passport_pipelines.rules.patterns import template_sql
from passport_pipelines.rules.unique_values import resolve_unique
from passport_pipelines.transforms.runner import content_hash_sql
from passport_pipelines.transforms.sql_text import ident, lit, text_list

# Comma-joined list cells (OneRoster's convention): value maps apply item by item.
LIST_COLUMNS = frozenset({"grades", "subjects", "subject_codes", "periods", "user_ids"}
                         | {r.column for refs in entities.REFERENCES.values() for r in refs if r.is_list})

# Title case: each word is capitalized, words being runs between spaces, hyphens, slashes,
# periods and parentheses; a word-initial letter + apostrophe (o'neil, d'asia) is a word of its
# own, so O'Neil and D'Asia come out right while teacher's stays teacher's. Leftmost-first
# alternation (RE2) tries that prefix first only where a word starts.
_TITLE_TOKENS = r"\p{L}['’]|[\s\-/(.]+|[^\s\-/(.]+"
_TITLE_BREAKS = r"[\s\-/(.'’]"  # a value without any of these is one word
_TITLE_ALREADY = r"\p{Lu}\p{Ll}*"  # one word in title case already (most names): left as it is
# Letters strip_accents leaves alone (they do not decompose), spelled as usernames spell them;
# folded only in values that still hold a non-ASCII character after strip_accents (rare, and
# the replace() chain is the costly part).
_ASCII_ONE = ("øłđðı", "olddi")
_ASCII_TWO = (("ß", "ss"), ("æ", "ae"), ("œ", "oe"), ("þ", "th"))


def _title(x: str) -> str:
    words = f"regexp_extract_all(lower({x}), {lit(_TITLE_TOKENS)})"
    tokenized = f"array_to_string(list_transform({words}, lambda t: upper(t[1]) || t[2:]), '')"
    # Most values are one word: no separator, no apostrophe, so no list to build (a third faster).
    one_word = f"upper(lower({x}[1])) || lower({x}[2:])"
    return (f"CASE WHEN regexp_full_match({x}, {lit(_TITLE_ALREADY)}) THEN {x} "
            f"WHEN regexp_matches({x}, {lit(_TITLE_BREAKS)}) THEN {tokenized} ELSE {one_word} END")


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
    # An item mapped to null is dropped from the list; an emptied list is NULL. A cell of one item
    # (most cells) is mapped as it is: a list per row costs twice as much.
    items = f"nullif(array_to_string(list_transform(string_split({x}, ','), lambda i: {case('i')}), ','), '')"
    return f"CASE WHEN contains({x}, ',') THEN {items} ELSE nullif({case(x)}, '') END"


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
        replaced = f"regexp_replace({f}, {lit(rx.pattern)}, {lit(rx.replacement)}, {flags})"
        # Looked for first: a search is a fifth of the cost of a replacement, which builds a new value.
        found = f"regexp_matches({f}, {lit(rx.pattern)}{', ' + lit('i') if rx.ignore_case else ''})"
        ops.append(f"CASE WHEN {found} THEN {replaced} ELSE {f} END")
    if ops:  # an operation that leaves nothing leaves a blank: NULL, as everywhere in the model
        ops.append(f"nullif({f}, '')")
    if rule.value_map:
        ops.append(_value_map(f, rule.value_map, rule.field in LIST_COLUMNS))
    if rule.date_formats:
        # An unreadable date stays as it was, so that the canonical schema check reports it.
        ops.append(f"coalesce(strftime(try_strptime({f}, {text_list(rule.date_formats)}), '%Y-%m-%d'), {f})")
    if rule.default is not None:
        ops.append(f"CASE WHEN {is_blank(f)} THEN {lit(rule.default)} ELSE {f} END")
    return ops


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


def _pass(con: duckdb.DuckDBPyConnection, source: str, table: str, entity: str,
          numbered: list[tuple[int, TransformRule]], mapping: list[str],
          taken: Callable[[str], pa.Array | pa.Table | None] | None) -> dict[str, int]:
    """One pass: ``table`` rewritten from ``source`` with the pass's values (the attribute mapping
    first, when given) and a changed flag per rule; the ``unique`` rule's collisions resolved in
    it; the flags counted and dropped. One statement writes the table, whose rows stay in order."""
    sql, flags, counted = f"SELECT * FROM {source}", [], []
    if mapping:
        sql = f"SELECT * REPLACE ({', '.join(mapping)}) FROM ({sql})"
    unique = next(((number, rule) for number, rule in numbered if rule.unique), None)
    for number, rule in numbered:
        f, before = ident(rule.field), f"__before_{number}"
        sql = f"SELECT *, {f} AS {before} FROM ({sql})"
        for op in operations(rule):
            sql = f"SELECT * REPLACE ({op} AS {f}) FROM ({sql})"
        if rule.only_if_blank:
            sql = f"SELECT * REPLACE (CASE WHEN {is_blank(before)} THEN {f} ELSE {before} END AS {f}) FROM ({sql})"
        key = f"{entity}[{number}].{rule.field}"
        if rule.unique:  # compared with the value before once the settled value is known
            flags.append(before)
            counted.append((key, f"count_if({f} IS DISTINCT FROM {before})"))
        else:
            sql = f"SELECT * EXCLUDE ({before}), ({f} IS DISTINCT FROM {before}) AS __changed_{number} FROM ({sql})"
            flags.append(f"__changed_{number}")
            counted.append((key, f"count_if(__changed_{number})"))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {sql}")
    if unique is not None:
        number, rule = unique
        eligible = is_blank(f"__before_{number}") if rule.only_if_blank else "true"
        settled = resolve_unique(con, table, rule.field, eligible, taken(rule.field) if taken else None)
        con.execute(f"UPDATE {table} SET {ident(rule.field)} = d.value FROM {settled} AS d WHERE {table}.rowid = d.rid")
        con.execute(f"DROP TABLE {settled}")
    counts = con.execute(f"SELECT {', '.join(c for _, c in counted)} FROM {table}").fetchone() if counted else ()
    for flag in flags:  # a column dropped is metadata only: the rows are not rewritten
        con.execute(f"ALTER TABLE {table} DROP COLUMN {flag}")
    return {key: int(n) for (key, _), n in zip(counted, counts)}


def apply_transforms(con: duckdb.DuckDBPyConnection, relation: str, entity: str, rules: list[TransformRule], *,
                     taken: Callable[[str], pa.Array | pa.Table | None] | None = None,
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
        counts.update(_pass(con, source, table, entity, numbered, mapping if number == 0 else [], taken))
        source = table
    if rehash and "content_hash" in have:
        con.execute(f"UPDATE {table} SET content_hash = {content_hash_sql(entity)}")
    return table, counts
