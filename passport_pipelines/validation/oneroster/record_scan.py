"""Where a CSV file the parser refused goes wrong, found in its bytes.

pyarrow says that a file cannot be parsed, not where. When it refuses one, its records are
scanned a few MiB at a time, vectorized within each piece, for the first of: a record whose
number of cells differs from the header's, a cell bigger than the field-size limit, or a quoted
cell that is never closed. A cell that grows past the limit stops the scan there, so a file with a
200 MB cell is not scanned to its end. Quotes are counted the simple way (each one opens or
closes a quoted stretch), which is exact for well-formed cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_CHUNK = 1 << 20
NL, CR, QUOTE, COMMA = 10, 13, 34, 44


@dataclass(frozen=True)
class Problem:
    kind: str  # "width" | "field_size" | "open_quote"
    line: int  # the line the record (for field_size: the cell) starts on
    cells: int = 0  # width: the record's cells
    column: int = 0  # field_size: the cell's position in its record, from 0
    size: int = 0  # field_size: its bytes (at least this many when ``unended``)
    unended: bool = False  # field_size: the cell had not ended where the scan stopped


def first_lone_cr_line(data: bytes | bytearray) -> int | None:
    """The line of the first carriage return that ends a line on its own, outside quotes: not
    followed by a line feed, nor by another CR (CR CR LF is a CRLF file saved twice, read fine).
    None if there is none; a CR at the very end of the file ends nothing and is not counted."""
    if data.count(b"\r") == data.count(b"\r\n"):
        return None
    raw = np.frombuffer(data, dtype=np.uint8)
    cr = np.flatnonzero(raw[:-1] == CR)
    after = raw[cr + 1]
    lone = cr[(after != NL) & (after != CR)]
    if not len(lone):
        return None
    quotes = np.flatnonzero(raw == QUOTE)
    outside = lone[np.searchsorted(quotes, lone) % 2 == 0]
    if not len(outside):
        return None
    return int(np.count_nonzero(raw[:outside[0]] == NL)) + 1


class _Cursor:
    """Where the scan is: the cell and record in progress, and the line feeds seen."""

    def __init__(self, start: int, first_line: int) -> None:
        self.quotes = 0  # 1 inside a quoted stretch, 0 outside
        self.feeds = first_line - 1  # line feeds before the current piece, counting from line 1
        self.cell_start, self.cell_line, self.cell_index = start, first_line, 0
        self.record_start, self.record_line = start, first_line


def first_problem(data: bytes | bytearray, start: int, first_line: int, width: int,
                  max_field: int) -> Problem | None:
    """The first problem in the records of ``data[start:]`` (``first_line`` is the line ``start``
    is on); None if the scan finds none."""
    raw = np.frombuffer(data, dtype=np.uint8)
    at = _Cursor(start, first_line)
    for offset in range(start, len(raw), _CHUNK):
        piece = raw[offset:offset + _CHUNK]
        quotes = np.cumsum(piece == QUOTE, dtype=np.int32) + at.quotes
        outside = (quotes & 1) == 0
        feeds = np.flatnonzero(piece == NL) + offset

        def line_of(pos: np.ndarray) -> np.ndarray:
            return at.feeds + np.searchsorted(feeds, pos) + 1

        commas = np.flatnonzero((piece == COMMA) & outside) + offset
        breaks = np.flatnonzero((piece == NL) & outside) + offset
        ends = np.concatenate((commas, breaks))
        is_break = np.concatenate((np.zeros(len(commas), bool), np.ones(len(breaks), bool)))
        order = np.argsort(ends, kind="stable")
        ends, is_break = ends[order], is_break[order]
        n = len(ends)
        problems: list[tuple[int, Problem]] = []
        if n:
            starts = np.concatenate(([at.cell_start], ends[:-1] + 1))
            # A cell ending a CRLF line does not own the CR.
            sizes = ends - starts - (is_break & (raw[np.maximum(ends - 1, 0)] == CR))
            # Each cell's position in its record, counted from the line break before it; the first
            # record of the piece goes on from the previous piece.
            opens = np.zeros(n, bool)
            opens[0] = True
            opens[1:] = is_break[:-1]
            index = np.arange(n) - np.maximum.accumulate(np.where(opens, np.arange(n), 0))
            first_break = int(np.argmax(is_break)) if is_break.any() else n - 1
            index[:first_break + 1] += at.cell_index
            cell_lines = line_of(starts)
            cell_lines[0] = at.cell_line
            big = np.flatnonzero(sizes > max_field)
            if len(big):
                i = int(big[0])
                problems.append((int(starts[i]), Problem("field_size", int(cell_lines[i]), column=int(index[i]),
                                                         size=int(sizes[i]))))
            break_at = np.flatnonzero(is_break)
            if len(break_at):
                record_starts = np.concatenate(([at.record_start], ends[break_at][:-1] + 1))
                record_lines = line_of(record_starts)
                record_lines[0] = at.record_line
                cells = index[break_at] + 1
                length = ends[break_at] - record_starts
                lone_cr = (length == 1) & (raw[np.maximum(ends[break_at] - 1, 0)] == CR)
                blank = (cells == 1) & ((length == 0) | lone_cr)  # an empty line: the parser skips it
                wrong = np.flatnonzero((cells != width) & ~blank)
                if len(wrong):
                    j = int(wrong[0])
                    problems.append((int(record_starts[j]), Problem("width", int(record_lines[j]),
                                                                    cells=int(cells[j]))))
            if problems:
                return min(problems, key=lambda p: p[0])[1]
            at.cell_start, at.cell_index = int(ends[-1]) + 1, 0 if is_break[-1] else int(index[-1]) + 1
            at.cell_line = int(line_of(np.array([at.cell_start]))[0])
            if len(break_at):
                at.record_start = int(ends[break_at[-1]]) + 1
                at.record_line = int(line_of(np.array([at.record_start]))[0])
        at.quotes = int(quotes[-1]) & 1
        at.feeds += len(feeds)
        scanned = offset + len(piece)
        if scanned - at.cell_start > max_field:
            return Problem("field_size", at.cell_line, column=at.cell_index, size=scanned - at.cell_start,
                           unended=scanned < len(raw))
    if at.quotes & 1:
        return Problem("open_quote", at.record_line)
    rest = raw[at.record_start:]
    if len(rest) and at.cell_index + 1 != width and np.any((rest != CR) & (rest != NL)):
        return Problem("width", at.record_line, cells=at.cell_index + 1)
    return None
