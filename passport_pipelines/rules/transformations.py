"""Transformation rules (``config/transform_rules.py``) applied to a canonical table in DuckDB.

Every operation of every rule is one projection layer, ``SELECT * REPLACE (<op> AS field)``,
stacked into a single statement: DuckDB streams the layers in one vectorized pass, a rule sees
the values earlier rules produced, and no expression is written (or computed) twice. A pass ends
at a ``unique`` rule, or after the last rule: it writes a narrow stage table (row id, the fields
the pass sets, a ``__changed_<n>`` flag per rule), resolves the collisions there
(``unique_values.py``), counts the flags, and writes the changed fields of the changed rows back
into the table in place, so the next pass reads the settled values. A million-row table is never
copied whole; the content hash is recomputed for the changed rows only."""

from __future__ import annotations

from typing import Callable

import duckdb
import pyarrow as pa

from passport_pipelines.config.transform_rules import TransformRule
from passport_pipelines.model import entities
from passport_pipelines.rules.in_place import writable_table
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
# Letters strip_accents leaves alone (they do not decompose), spelled as usernames spell them;
# folded only in values that still hold a non-ASCII character after strip_accents (rare, and
# the replace() chain is the costly part).
_ASCII_ONE = ("øłđðı", "olddi")
_ASCII_TWO = (("ß", "ss"), ("æ", "ae"), ("œ", "oe"), ("þ", "th"))


def _blank(x: str) -> str:
    return f"(coalesce(trim({x}), '') = '')"


def _title(x: str) -> str:
    words = f"regexp_extract_all(lower({x}), {lit(_TITLE_TOKENS)})"
    tokenized = f"array_to_string(list_transform({words}, lambda t: upper(t[1]) || t[2:]), '')"
    # Most values are one word: no separator, no apostrophe, so no list to build (a third faster).
    one_word = f"upper(lower({x}[1])) || lower({x}[2:])"
    return f"CASE WHEN regexp_matches({x}, {lit(_TITLE_BREAKS)}) THEN {tokenized} ELSE {one_word} END"


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


def _segments(rules: list[TransformRule]) -> list[list[tuple[int, TransformRule]]]:
    """The rules numbered and cut after each ``unique`` rule: a segment is one pass."""
    segments, current = [], []
    for number, rule in enumerate(rules):
        current.append((number, rule))
        if rule.unique:
            segments.append(current)
            current = []
    return segments + ([current] if current else [])


def _apply_segment(con: duckdb.DuckDBPyConnection, table: str, entity: str,
                   segment: list[tuple[int, TransformRule]],
                   taken: Callable[[str], pa.Array | pa.Table | None] | None, rehash: bool) -> dict[str, int]:
    """One pass: the segment's values computed into a narrow stage table (row id, the fields it
    writes, a changed flag per rule), a closing ``unique`` rule resolved there, the flags counted,
    and the changed rows written back into ``table`` in place. Only the fields the rules write are
    copied, and only the rows they changed are rewritten: a million-row table is not copied whole."""
    fields = list(dict.fromkeys(ident(rule.field) for _, rule in segment))
    sql, keep, counted = f"SELECT rowid AS __rid, * FROM {table}", ["__rid", *fields], []
    last_number, last = segment[-1]
    for number, rule in segment:
        f, before = ident(rule.field), f"__before_{number}"
        sql = f"SELECT *, {f} AS {before} FROM ({sql})"
        for op in operations(rule):
            sql = f"SELECT * REPLACE ({op} AS {f}) FROM ({sql})"
        if rule.only_if_blank:
            sql = f"SELECT * REPLACE (CASE WHEN {_blank(before)} THEN {f} ELSE {before} END AS {f}) FROM ({sql})"
        if not rule.unique:
            sql = f"SELECT * EXCLUDE ({before}), ({f} IS DISTINCT FROM {before}) AS __changed_{number} FROM ({sql})"
            keep.append(f"__changed_{number}")
            counted.append((f"{entity}[{number}].{rule.field}", f"count_if(__changed_{number})"))
    stage = f"__transform_{entity}"
    if last.unique:  # the settled value is compared with the one before, once it is known
        keep += ["sourced_id", f"__before_{last_number}"]
        counted.append((f"{entity}[{last_number}].{last.field}",
                        f"count_if({ident(last.field)} IS DISTINCT FROM __before_{last_number})"))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {stage} AS SELECT {', '.join(keep)} FROM ({sql})")
    if last.unique:
        f = ident(last.field)
        eligible = _blank(f"__before_{last_number}") if last.only_if_blank else "true"
        settled = resolve_unique(con, stage, last.field, eligible, taken(last.field) if taken else None)
        con.execute(f"UPDATE {stage} SET {f} = d.value FROM {settled} AS d WHERE {stage}.rowid = d.rid")
        con.execute(f"DROP TABLE {settled}")
    counts = con.execute(f"SELECT {', '.join(c for _, c in counted)} FROM {stage}").fetchone()
    # Written back: the fields some rule changed, in the rows where one did.
    changes: dict[str, list[str]] = {}
    for (number, rule), n in zip(segment, counts):
        if n:
            changes.setdefault(ident(rule.field), []).append(
                f"{ident(rule.field)} IS DISTINCT FROM __before_{number}" if rule.unique else f"__changed_{number}")
    if changes:
        any_changed = " OR ".join(c for conditions in changes.values() for c in conditions)
        sets = ", ".join(f"{f} = s.{f}" for f in changes)
        con.execute(f"UPDATE {table} SET {sets} FROM (SELECT * FROM {stage} WHERE {any_changed}) AS s "
                    f"WHERE {table}.rowid = s.__rid")
        if rehash:
            con.execute(f"INSERT INTO __transform_changed SELECT __rid FROM {stage} WHERE {any_changed}")
    con.execute(f"DROP TABLE {stage}")
    return {key: int(n) for (key, _), n in zip(counted, counts)}


def apply_transforms(con: duckdb.DuckDBPyConnection, relation: str, entity: str, rules: list[TransformRule], *,
                     taken: Callable[[str], pa.Array | pa.Table | None] | None = None,
                     rehash: bool = True) -> tuple[str, dict[str, int]]:
    """Apply the rules to the rows of ``relation``, in place when it is a table (see
    ``writable_table``; same columns, same order, content hash recomputed); return the table and,
    per rule, how many values it changed, keyed as the rule's place in the integration file:
    ``"users[4].username"`` is the fifth rule of users.

    ``taken(field)`` gives the values a ``unique`` rule must avoid (see ``resolve_unique``).
    ``rehash=False`` leaves the content hash to a caller that recomputes it after later rules
    anyway (it costs ~0.4 s per million rows)."""
    if not rules:
        return relation, {}
    have = [row[0] for row in con.execute(f"DESCRIBE {relation}").fetchall()]
    _check_columns(have, entity, rules)
    table = writable_table(con, relation, f"transformed__{entity}")
    con.execute("CREATE OR REPLACE TEMP TABLE __transform_changed (rid BIGINT)")
    counts: dict[str, int] = {}
    for segment in _segments(rules):
        counts.update(_apply_segment(con, table, entity, segment, taken, rehash))
    if rehash and "content_hash" in have:
        con.execute(f"UPDATE {table} SET content_hash = {content_hash_sql(entity)} "
                    f"WHERE rowid IN (SELECT rid FROM __transform_changed)")
    con.execute("DROP TABLE __transform_changed")
    return table, counts
