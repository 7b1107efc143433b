"""A CSV file's header row: found whole, up to the header-size limit, and split into names.

The row ends at the first line break outside a quoted cell. It is split by the same parser that
reads the rows (pyarrow), so a name means what a cell under it would mean; Python's csv module is
not used, because it refuses cells over 128 KiB with an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.csv as pacsv

BOM = b"\xef\xbb\xbf"

# One header record: cells separated by commas, each quoted ("" for a quote inside; anything may
# follow the closing quote, as both pyarrow and Python's csv read it) or not (not starting with a
# quote), up to a line break. Possessive repeats: a long cell is matched without backtracking.
_CELL = rb'(?:"(?:[^"]++|"")*+"[^,\r\n]*+|[^,\r\n"][^,\r\n]*+|)'
_RECORD = re.compile(rb"%s(?:,%s)*+(\r\n|\n|\r|\Z)" % (_CELL, _CELL))


class HeaderTooLong(ValueError):
    pass


@dataclass(frozen=True)
class HeaderRow:
    names: list[str]  # as written, trimmed
    end: int  # offset of the first byte after the header row (its line break included)


def header_row(data: bytes | bytearray, limit: int) -> HeaderRow:
    """The header row of ``data`` (a whole file). Raises UnicodeDecodeError if it is not UTF-8, and
    HeaderTooLong if it does not end within ``limit`` bytes (or a quote in it is never closed)."""
    start = len(BOM) if data[:3] == BOM else 0
    window = bytes(data[start:start + limit + 2])  # + a CRLF right after a header of exactly ``limit``
    match = _RECORD.match(window)
    cut = len(data) > start + len(window)
    if match is None or match.end() - len(match.group(1)) > limit or (cut and not match.group(1)):
        raise HeaderTooLong()
    raw = window[:match.end()]
    raw.decode("utf-8")  # strict: the caller reports the encoding
    return HeaderRow(_split(raw), start + match.end())


def _split(raw: bytes) -> list[str]:
    if not raw.strip(b"\r\n"):
        return [""]
    if not raw.endswith((b"\n", b"\r")):
        # A header-only file without a final line break: the parser reads whole rows only.
        raw += b"\n"
    table = pacsv.read_csv(
        pa.py_buffer(raw),
        read_options=pacsv.ReadOptions(block_size=max(1 << 16, 2 * len(raw))),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
    )
    return [name.strip() for name in table.column_names]
