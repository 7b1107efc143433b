"""The three small languages rules are written in: ``{column}`` templates, RE2 regexes and
strptime date formats -- parsed and checked here, once, for the config and the engine.

Regexes and date formats are checked by DuckDB, the engine that will run them (RE2 and its
own strptime), not by Python's ``re``/``datetime``, which accept a different syntax (RE2 has
no look-arounds, for one).

A template's placeholder is used trimmed; a blank one (NULL or spaces) makes the whole result
NULL, so that ``"{given_name}.{family_name}"`` never yields ``"mary."``. ``{{``/``}}`` are braces.
"""

from __future__ import annotations

import re
import string
import threading
from functools import cache

import duckdb

from passport_pipelines.sql.blank_values import trimmed
from passport_pipelines.sql.quoting import ident, lit

_NAME = re.compile(r"[a-z_][a-z0-9_]*")
# Directives of DuckDB's strptime that carry a date's parts.
_YEAR, _MONTH, _DAY = ("%Y", "%y", "%G"), ("%m", "%-m", "%b", "%B", "%h"), ("%d", "%-d", "%e")
_LOCK = threading.Lock()


def no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


def parse_template(template: str) -> list[tuple[str, str | None]]:
    """(literal text, placeholder or None) pairs, in order; ValueError for a malformed template."""
    try:
        parts = list(string.Formatter().parse(no_nul(template)))
    except ValueError as exc:
        raise ValueError(f"template {template!r}: {exc} (write {{{{ or }}}} for a literal brace)") from None
    for _, name, spec, conversion in parts:
        if name is not None and (spec or conversion or not _NAME.fullmatch(name)):
            shown = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            raise ValueError(f"template {template!r}: placeholders are plain column names like {{given_name}}, "
                             f"got {{{shown}}}")
    return [(text, name) for text, name, _, _ in parts]


def placeholders(template: str) -> list[str]:
    return [name for _, name in parse_template(template) if name is not None]


def template_sql(template: str) -> str:
    """The SQL expression of a template over the current row; ``||`` makes any NULL part NULL."""
    pieces = []
    for text, name in parse_template(template):
        if text:
            pieces.append(lit(text))
        if name is not None:
            pieces.append(f"nullif({trimmed(f'CAST({ident(name)} AS VARCHAR)')}, '')")
    return " || ".join(pieces) if pieces else "''"


@cache
def _checker() -> duckdb.DuckDBPyConnection:
    return duckdb.connect(":memory:")


def _duckdb_error(sql: str, params: list[str]) -> str | None:
    with _LOCK:  # one cached connection, and a DuckDB connection is not thread-safe
        try:
            _checker().execute(sql, params).fetchall()
        except duckdb.Error as exc:
            return str(exc).split("Error: ", 1)[-1]
    return None


def _capturing_groups(pattern: str) -> int:
    """Capturing groups of an RE2 pattern: '(' not escaped, not in [...], not (?:...) or (?i)."""
    count, i, in_class = 0, 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if pattern[i + 1:i + 2] == "]":  # a leading ] is a literal inside the class
                i += 1
        elif ch == "(":
            opening = pattern[i + 1:i + 4]
            count += not opening.startswith("?") or opening == "?P<" or (
                opening.startswith("?<") and opening not in ("?<=", "?<!"))
        i += 1
    return count


def check_regex(pattern: str, replacement: str) -> None:
    """ValueError unless RE2 compiles ``pattern`` and ``replacement`` names only its groups."""
    error = _duckdb_error("SELECT regexp_replace('', ?, ?)", [no_nul(pattern), no_nul(replacement)])
    if error:
        raise ValueError(f"pattern does not compile: {error}")
    groups = _capturing_groups(pattern)
    for escape in re.findall(r"\\(.)", replacement):
        if escape != "\\" and not escape.isdigit():
            raise ValueError(f"replacement: \\{escape} is not \\0-\\9 or \\\\ (a literal backslash)")
        if escape.isdigit() and int(escape) > groups:
            raise ValueError(f"replacement refers to group \\{escape}, but the pattern has {groups} group(s)")


def check_date_format(fmt: str) -> None:
    """ValueError unless DuckDB's strptime reads ``fmt`` and it names a year, a month and a day."""
    error = _duckdb_error("SELECT try_strptime('', ?)", [no_nul(fmt)])
    if error:
        raise ValueError(f"date format {fmt!r} is not a strptime pattern: {error}")
    if not all(any(d in fmt for d in part) for part in (_YEAR, _MONTH, _DAY)):
        raise ValueError(f"date format {fmt!r} needs a year (%Y or %y), a month (%m, %b or %B) and a day (%d)")
