"""Reading one CSV file of a package into an Arrow table of text columns.

Headers are matched to the spec case-insensitively and in any order; ``metadata.*``
extension columns are kept; every cell is trimmed and a blank cell becomes null. Each row
keeps ``_line``, its line in the file (header = line 1), for reporting.
"""

from __future__ import annotations

import codecs
import csv
import io
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from passport_pipelines.oneroster_csv.findings import Finding, FindingsReport
from passport_pipelines.oneroster_csv.package import Package
from passport_pipelines.oneroster_csv.spec import FileSpec

LINE = "_line"
METADATA_PREFIX = "metadata."
_HEAD_BYTES = 1 << 16


def _error(file: str, rule: str, message: str, *, line: int | None = None, column: str | None = None) -> Finding:
    return Finding(file, line, column, None, rule, "error", message)


def _header(raw: bytes, final: bool = True) -> list[str] | None:
    # ``raw`` may be the file's first bytes only, cut inside a multi-byte character: not an error.
    text = codecs.getincrementaldecoder("utf-8-sig")("strict").decode(raw, final=final)
    first = next(csv.reader(io.StringIO(text)), None)
    return [h.strip() for h in first] if first is not None else None


def _first_invalid_utf8_line(data: bytes) -> int:
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    for start in range(0, len(data), _HEAD_BYTES):
        chunk = data[start:start + _HEAD_BYTES]
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            return line + chunk[: exc.start].count(b"\n")
        line += chunk.count(b"\n")
    return line


def _first_bad_row(data: bytes, width: int) -> tuple[int, int]:
    """Line and field count of the first record whose width differs from the header's."""
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig", errors="replace")))
    next(reader, None)
    for row in reader:
        if row and len(row) != width:
            return reader.line_num, len(row)
    return 0, 0


def record_lines(data: bytes, rows: int) -> np.ndarray:
    """The line each data record starts on (the header is line 1).

    Usually one record is one line. When the newline count says otherwise (a quoted cell with
    a line break, or blank lines the parser skips), the records' real start lines are found
    from the newlines that lie outside quotes — vectorized, and only for such files.
    """
    newlines = data.count(b"\n")
    trailing = 0 if data.endswith(b"\n") else 1
    if newlines + trailing == rows + 1:
        return np.arange(2, rows + 2, dtype=np.int64)
    raw = np.frombuffer(data, dtype=np.uint8)
    nl = np.flatnonzero(raw == 10)
    quotes = np.flatnonzero(raw == 34)
    ends = nl[np.searchsorted(quotes, nl) % 2 == 0]  # newlines outside quoted cells end records
    starts = np.concatenate(([0], ends + 1))
    stops = np.concatenate((ends, [len(raw)]))
    length = stops - starts
    # A record of nothing (or a lone carriage return) is a blank line the parser skipped.
    cr_only = (length == 1) & (raw[np.minimum(starts, len(raw) - 1)] == 13)
    keep = (length > 0) & ~cr_only & (starts < len(raw))
    lines = np.searchsorted(nl, starts[keep]) + 1
    data_lines = lines[1:]  # the first record is the header
    if len(data_lines) != rows:
        return np.arange(2, rows + 2, dtype=np.int64)  # unexpected shape: fall back to the simple count
    return data_lines.astype(np.int64)


def read_csv_table(package: Package, spec: FileSpec, report: FindingsReport) -> pa.Table | None:
    """The file as a table of the spec's columns (plus extensions), or None if unreadable."""
    fname = spec.filename
    data = package.read_bytes(fname)
    try:
        header = _header(data[:_HEAD_BYTES], final=len(data) <= _HEAD_BYTES)
    except UnicodeDecodeError:
        report.add(_error(fname, "file.encoding",
                          "not UTF-8 text; save the file as UTF-8 (with or without BOM)",
                          line=_first_invalid_utf8_line(data)))
        return None
    if not header or header == [""]:
        report.add(_error(fname, "file.empty", "the file is empty: expected a header row", line=1))
        return None

    by_lower = {name.lower(): name for name in spec.names}
    renamed: list[str] = []
    seen: dict[str, int] = {}
    ok = True
    for position, raw in enumerate(header, start=1):
        lower = raw.lower()
        if lower.startswith(METADATA_PREFIX) and len(raw) > len(METADATA_PREFIX):
            name = METADATA_PREFIX + raw[len(METADATA_PREFIX):]
        elif lower in by_lower:
            name = by_lower[lower]
        else:
            name = f"_unknown_{position}"
            report.add(Finding(fname, 1, raw, None, "header.unknown_column", "warning",
                               f"unknown column {raw!r} is ignored (expected one of the {spec.name} columns "
                               "or metadata.<name>)"))
        if name in seen:
            report.add(_error(fname, "header.duplicate_column", f"column {raw!r} appears twice in the header",
                              line=1, column=raw))
            ok = False
        seen[name] = position
        renamed.append(name)
    for col in spec.columns:
        if col.required and col.name not in seen:
            report.add(_error(fname, "header.missing_column", f"required column {col.name!r} is missing",
                              line=1, column=col.name))
            ok = False
    if not ok:
        return None

    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(column_names=renamed, skip_rows=1, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in renamed},
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                null_values=[""],
            ),
        )
    except pa.ArrowInvalid as exc:
        text = str(exc)
        if "UTF8" in text:
            report.add(_error(fname, "file.encoding", "not UTF-8 text; save the file as UTF-8 (with or without BOM)",
                              line=_first_invalid_utf8_line(data)))
        else:
            line, got = _first_bad_row(data, len(header))
            # The parser's own message ends with the offending row's text: personal data, or a
            # password in an SSO file. Only its diagnosis is kept.
            diagnosis = re.sub(r"(got \d+)\s*:.*$", r"\1", text.splitlines()[0] if text else text)
            report.add(_error(fname, "file.parse",
                              f"row has {got} fields but the header has {len(header)} (check quoting and delimiters)"
                              if line else f"the CSV cannot be parsed: {diagnosis}", line=line or None))
        return None
    lines = record_lines(data, table.num_rows)
    del data

    columns = {}
    for name in table.column_names:
        if name.startswith("_unknown_"):
            continue
        col = pc.utf8_trim_whitespace(table[name])
        columns[name] = pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)
    for name in spec.names:
        columns.setdefault(name, pa.nulls(table.num_rows, pa.string()))
    ordered = [n for n in spec.names] + sorted(n for n in columns if n.startswith(METADATA_PREFIX))
    arrays = [columns[n] for n in ordered]
    arrays.append(pa.array(lines))
    return pa.table(arrays, names=[*ordered, LINE])
