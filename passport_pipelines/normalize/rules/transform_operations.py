"""The SQL of each transformation rule's operations (``config/transform_rules.py``), in the
documented order, over the rule's field. ``transformations.py`` stacks them into one statement."""

from __future__ import annotations

from passport_pipelines.config.transform_rules import TransformRule
from passport_pipelines.model import entities
from passport_pipelines.sql.blank_values import is_blank, trimmed
from passport_pipelines.sql.patterns import template_sql
from passport_pipelines.sql.quoting import ident, lit, text_list

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
        ops.append(trimmed(f))
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
