"""Reading one CSV file of a package into an Arrow table of text columns.

Headers are matched to the spec case-insensitively and in any order (two names that differ only
by case are one column written twice); ``metadata.*`` extension columns are kept; every cell is
trimmed and a blank cell becomes null. Each row keeps ``_line``, its line in the file (header =
line 1), for reporting.

A file that cannot be read gives a finding, never an exception: not UTF-8 (UTF-16 is named), a
lone CR as line ending, a header row over the header-size limit, a cell over the field-size
limit, a row of the wrong width, a quote never closed, a control character (NUL...) in a cell.
"""

from __future__ import annotations

import codecs
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from passport_pipelines.config.package_limits import PackageLimits, size_text
from passport_pipelines.validation.oneroster.findings import SAMPLE_LIMIT, Finding, FindingsReport, mask
from passport_pipelines.validation.oneroster.header_row import HeaderRow, HeaderTooLong, header_row
from passport_pipelines.validation.oneroster.package import Package
from passport_pipelines.validation.oneroster.record_scan import first_lone_cr_line, first_problem
from passport_pipelines.validation.oneroster.spec import FileSpec

LINE = "_line"
METADATA_PREFIX = "metadata."
_SCAN_BYTES = 1 << 20
_BLOCK_BYTES = 1 << 24
# C0 control characters other than tab, line feed and carriage return: never text in a roster cell.
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13))
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _error(file: str, rule: str, message: str, *, line: int | None = None, column: str | None = None) -> Finding:
    return Finding(file, line, column, None, rule, "error", message)


def _first_invalid_utf8_line(data: bytes | bytearray) -> int:
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    for start in range(0, len(data), _SCAN_BYTES):
        chunk = data[start:start + _SCAN_BYTES]
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            return line + chunk[: exc.start].count(b"\n")
        line += chunk.count(b"\n")
    return line


def _encoding_error(fname: str, data: bytes | bytearray) -> Finding:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return _error(fname, "file.encoding", "UTF-16 text (as Excel's \"Unicode Text\" saves it); save the file "
                                              "as UTF-8 (with or without BOM)", line=1)
    return _error(fname, "file.encoding", "not UTF-8 text; save the file as UTF-8 (with or without BOM)",
                  line=_first_invalid_utf8_line(data))


def _line_endings_error(fname: str, line: int) -> Finding:
    return _error(fname, "file.line_endings",
                  "a line ends with a lone carriage return (CR, as classic Mac OS saved text): save the file "
                  "with Windows (CRLF) or Unix (LF) line endings", line=line)


def _has_control_bytes(data: bytes | bytearray, start: int) -> bool:
    # One pass of bytes.translate per MiB: about 1 s per GB, against 2-3 s for a regex search.
    for at in range(start, len(data), _SCAN_BYTES):
        chunk = data[at:at + _SCAN_BYTES]
        if len(chunk.translate(None, _CONTROL_BYTES)) != len(chunk):
            return True
    return False


def _shown(column: str, value: str) -> str | None:
    """The value as a finding shows it: masked if personal, else with its control characters
    written out (\\x00), so that a report never carries them raw."""
    masked = mask(column, value)
    if masked != value:
        return masked
    return _CONTROL_CHARS.sub(lambda m: f"\\x{ord(m.group()):02x}", value)


def _check_cells(table: pa.Table, lines: np.ndarray, fname: str, limits: PackageLimits, controls: bool,
                 report: FindingsReport) -> bool:
    """Cells over the field-size limit, and (when the bytes hold any) control characters: errors.
    Vectorized per column; True when the table is clean."""
    ok = True
    for name in table.column_names:
        if name.startswith("_unknown_"):
            continue
        col = table[name]
        sizes = pc.binary_length(col)
        over = pc.greater(sizes, limits.max_field_size)
        total = pc.sum(over).as_py() or 0
        if total:
            rows = pc.indices_nonzero(over).to_numpy()[:SAMPLE_LIMIT]
            report.add_many([_error(fname, "value.too_large", _too_large_message(sizes[int(i)].as_py(), limits),
                                    line=int(lines[i]), column=name) for i in rows], total)
            ok = False
        if not controls:
            continue
        bad = pc.fill_null(pc.match_substring_regex(col, _CONTROL_CHARS.pattern), False)
        total = pc.sum(bad).as_py() or 0
        if total:
            rows = pc.indices_nonzero(bad).to_numpy()[:SAMPLE_LIMIT]
            values = col.take(rows).to_pylist()
            report.add_many([Finding(fname, int(lines[i]), name, _shown(name, v),
                                     "value.control_character", "error",
                                     f"contains the control character 0x{ord(_CONTROL_CHARS.search(v).group()):02x}"
                                     " (NUL and the like are not text); remove it")
                             for i, v in zip(rows, values)], total)
            ok = False
    return ok


def _too_large_message(size: int, limits: PackageLimits, at_least: bool = False) -> str:
    return (f"the cell is {'at least ' if at_least else ''}{size_text(size)}, more than limits.max_field_size "
            f"({size_text(limits.max_field_size)}); the file is not read")


def _parse_error(fname: str, data: bytes | bytearray, header: HeaderRow, limits: PackageLimits,
                 diagnosis: str) -> Finding:
    """Why pyarrow refused the file, located by scanning its bytes."""
    lone_cr = first_lone_cr_line(data)
    if lone_cr is not None:
        return _line_endings_error(fname, lone_cr)
    width = len(header.names)
    first_line = 1 + data.count(b"\n", 0, header.end)
    problem = first_problem(data, header.end, first_line, width, limits.max_field_size)
    if problem is None:
        # The parser's own message ends with the offending row's text: personal data, or a
        # password in an SSO file. Only its diagnosis is kept.
        return _error(fname, "file.parse", f"the CSV cannot be parsed: {diagnosis}")
    if problem.kind == "field_size":
        column = header.names[problem.column] if problem.column < width else None
        message = _too_large_message(problem.size, limits, at_least=problem.unended)
        if problem.unended:
            message += " (or a quote opened in it is never closed)"
        return _error(fname, "value.too_large", message, line=problem.line, column=column)
    if problem.kind == "open_quote":
        return _error(fname, "file.parse", "a quoted cell in the record starting on this line is never closed "
                                           "(check the quotes)", line=problem.line)
    return _error(fname, "file.parse", f"row has {problem.cells} fields but the header has {width} "
                                       "(check quoting and delimiters)", line=problem.line)


def record_lines(data: bytes | bytearray, rows: int) -> np.ndarray | None:
    """The line each data record starts on (the header is line 1); None when the line breaks do
    not account for the rows the parser read.

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
        return None  # the line breaks do not account for the rows: the caller decides
    return data_lines.astype(np.int64)


def read_csv_table(package: Package, spec: FileSpec, report: FindingsReport, *,
                   exact_header: bool = False) -> pa.Table | None:
    """The file as a table of the spec's columns (plus extensions), or None if unreadable. With
    ``exact_header`` (a standard that fixes the header: the OneRoster bindings), a header that is
    readable but not exactly the standard's is a warning."""
    fname = spec.filename
    limits = package.limits
    data = package.read(fname, report)
    if data is None:
        return None
    try:
        header = header_row(data, limits.max_header_size)
    except UnicodeDecodeError:
        report.add(_encoding_error(fname, data))
        return None
    except HeaderTooLong:
        report.add(_error(fname, "header.too_large",
                          f"the header row does not end within limits.max_header_size "
                          f"({size_text(limits.max_header_size)}): it is longer, or a quote in it is never closed",
                          line=1))
        return None
    if header.names == [""]:
        report.add(_error(fname, "file.empty", "the file is empty: expected a header row", line=1))
        return None

    by_lower = {name.lower(): name for name in spec.names}
    renamed: list[str] = []
    seen: dict[str, str] = {}  # lower-case name -> the header's spelling
    ok = True
    for position, raw in enumerate(header.names, start=1):
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
        # Column names are case-insensitive (here and in every SQL engine downstream), so
        # metadata.Foo and metadata.foo are one column written twice.
        key = name.lower()
        if key in seen:
            twice = f"{raw!r}" if seen[key] == raw else f"{seen[key]!r} and {raw!r} (names are case-insensitive)"
            report.add(_error(fname, "header.duplicate_column", f"column {twice} appears twice in the header",
                              line=1, column=raw))
            ok = False
        elif not name.startswith("_unknown_"):
            seen[key] = raw
        renamed.append(name)
    for col in spec.columns:
        if col.required and col.name.lower() not in seen:
            report.add(_error(fname, "header.missing_column", f"required column {col.name!r} is missing",
                              line=1, column=col.name))
            ok = False
    if not ok:
        return None
    layout = _header_layout(header.names, renamed, spec) if exact_header else []
    if layout:
        report.add(Finding(fname, 1, None, None, "header.layout", "warning",
                           f"the header is not the {spec.name} header of the CSV binding ({'; '.join(layout)}); "
                           "it is read by column name"))

    if header.end == len(data):  # a header and nothing else (pyarrow calls that an empty file)
        return _table({n: pa.array([], pa.string()) for n in renamed}, spec, np.zeros(0, np.int64))
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data).slice(header.end),
            # A row must fit in a block; a cell over the field limit is found after the read, or
            # (when it does not fit even so) by the scan of the error path.
            read_options=pacsv.ReadOptions(column_names=renamed,
                                           block_size=max(_BLOCK_BYTES, 4 * limits.max_field_size)),
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
            report.add(_encoding_error(fname, data))
        else:
            diagnosis = re.sub(r"(got \d+)\s*:.*$", r"\1", text.splitlines()[0] if text else text)
            report.add(_parse_error(fname, data, header, limits, diagnosis))
        return None
    lines = record_lines(data, table.num_rows)
    if lines is None:
        # The line breaks do not add up to the rows read: a lone CR that the parser took for one.
        lone_cr = first_lone_cr_line(data)
        if lone_cr is not None:
            report.add(_line_endings_error(fname, lone_cr))
            return None
        lines = np.arange(2, table.num_rows + 2, dtype=np.int64)  # unexpected shape: the simple count
    controls = _has_control_bytes(data, header.end)
    del data
    if not _check_cells(table, lines, fname, limits, controls, report):
        return None

    return _table({name: table[name] for name in table.column_names}, spec, lines)


def _header_layout(written: list[str], renamed: list[str], spec: FileSpec) -> list[str]:
    """How a readable header differs from the binding's: every standard column, in order, spelled as
    the binding spells it, then the extensions. Empty when it is exactly that."""
    standard = [n for n in renamed if n in spec.names]
    problems = []
    missing = [n for n in spec.names if n not in standard]
    if missing:
        problems.append(f"optional column(s) {', '.join(missing)} missing")
    if standard != [n for n in spec.names if n in standard]:
        problems.append("columns out of the binding's order")
    respelled = [w for w, n in zip(written, renamed) if n in spec.names and w != n]
    if respelled:
        problems.append(f"{', '.join(repr(w) for w in respelled)} spelled otherwise than the binding")
    last_standard = max((i for i, n in enumerate(renamed) if n in spec.names), default=-1)
    if any(n.startswith(METADATA_PREFIX) for n in renamed[:last_standard]):
        problems.append("metadata.* columns before standard ones")
    return problems


def _table(read: dict[str, pa.ChunkedArray | pa.Array], spec: FileSpec, lines: np.ndarray) -> pa.Table:
    """The spec's columns, then the extensions, then ``_line``: trimmed, blank cells as nulls."""
    columns = {}
    for name, values in read.items():
        if name.startswith("_unknown_"):
            continue
        col = pc.utf8_trim_whitespace(values)
        columns[name] = pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)
    for name in spec.names:
        columns.setdefault(name, pa.nulls(len(lines), pa.string()))
    ordered = [n for n in spec.names] + sorted(n for n in columns if n.startswith(METADATA_PREFIX))
    arrays = [columns[n] for n in ordered]
    arrays.append(pa.array(lines))
    return pa.table(arrays, names=[*ordered, LINE])
