"""DuckDB errors about a value in the data, retold without the value.

When DuckDB cannot convert, parse or fit a value it quotes it: ``Conversion Error: Could not
convert string 'kai.cook@example.org' to BOOL``, followed by the SQL around it. Raised from a
sync, that text would reach the run's event log, the CLI output and the failure notification:
student data where only an operator's summary belongs. Errors of that family (DuckDB's
``DataError`` and ``InvalidInputException``) are therefore replaced by a ``DataValueError`` that
says where (the source, and the stage, entity, column and rule when the caller knows them) and
what kind of problem it was (the target type, when DuckDB named a known one), never the value.

Other DuckDB errors (a model's syntax, a missing column) are about the SQL, not the data, and
keep their message.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Iterator

import duckdb

# The exceptions whose messages quote data values.
DATA_ERRORS = (duckdb.DataError, duckdb.InvalidInputException)
# Types DuckDB names as a conversion's target ("... to BOOL"); anything else is not repeated.
_TYPES = frozenset({"BOOL", "BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                    "USMALLINT", "UINTEGER", "UBIGINT", "INT8", "INT16", "INT32", "INT64", "INT128", "UINT8",
                    "UINT16", "UINT32", "UINT64", "FLOAT", "DOUBLE", "DECIMAL", "DATE", "TIME", "TIMESTAMP",
                    "TIMESTAMP WITH TIME ZONE", "INTERVAL", "UUID", "JSON", "BLOB"})
_TARGET = re.compile(r" to ([A-Z][A-Z0-9 ]*?)(?: when casting from source column .*)?\s*$")
_KINDS = {
    duckdb.ConversionException: "a value could not be converted",
    duckdb.OutOfRangeException: "a value is out of range",
    duckdb.InvalidInputException: "a value could not be read",
}


class DataValueError(ValueError):
    """A value in a source's data that a rule or SQL model cannot use. The message names where,
    never the value."""


def withheld_reason(exc: duckdb.Error) -> str:
    """What kind of data problem ``exc`` is, in words that quote nothing from the data."""
    kind = next((text for cls, text in _KINDS.items() if isinstance(exc, cls)), "a value could not be used")
    first = str(exc).split("\n", 1)[0]
    match = _TARGET.search(first)
    if match and match.group(1) in _TYPES and isinstance(exc, duckdb.ConversionException):
        kind += f" to {match.group(1)}"
    return f"{kind} (the value is withheld: it is the district's data)"


@contextmanager
def values_withheld(where: str) -> Iterator[None]:
    """Within: DuckDB errors that quote a value become ``DataValueError``s naming ``where``."""
    try:
        yield
    except DATA_ERRORS as exc:
        raise DataValueError(f"{where}: {withheld_reason(exc)}") from None
