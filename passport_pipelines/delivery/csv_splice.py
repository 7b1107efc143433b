"""A delivered CSV file as lines keyed by their id, so that a file can be written again by replacing the rows
of some ids instead of building every row.

Works on the bytes our own writer produced (``oneroster_export.py``): RFC 4180 with minimal quoting, ``\\n``
line ends, a header line, one line per row in the order of the ids, each id at most once. A line ends at a
``\\n`` outside quotes: after an even number of ``"`` in the file (a quoted cell's inner quotes are doubled,
so they never change the count's parity). Everything is vectorized: a million-row file splits in well
under a second.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

_NEWLINE, _QUOTE = ord("\n"), ord('"')


def line_ends(body: np.ndarray) -> np.ndarray:
    """The offset just past each line of ``body`` (CSV bytes, every line ended by ``\\n``)."""
    newlines = _positions(body, _NEWLINE)
    quotes = _positions(body, _QUOTE)
    if quotes.size:  # a line end inside a quoted cell is part of the cell
        newlines = newlines[np.searchsorted(quotes, newlines) % 2 == 0]
    return newlines + 1


def _positions(body: np.ndarray, byte: int, block: int = 1 << 20) -> np.ndarray:
    """Where ``byte`` is in ``body``. Compared a block at a time into one small mask that stays in the
    CPU's cache: comparing half a gigabyte at once wrote (and first faulted in) a mask as large, 8x slower."""
    mask = np.empty(min(block, len(body)), dtype=bool)
    found = [np.flatnonzero(np.equal(body[start:start + block], byte, out=mask[:min(block, len(body) - start)]))
             + start for start in range(0, len(body), block)]
    return np.concatenate(found) if found else np.empty(0, dtype=np.int64)


def as_lines(body: bytes | memoryview | pa.Buffer) -> pa.Array:
    """``body`` as one ``large_binary`` value per line, without copying the bytes."""
    buffer = pa.py_buffer(body)
    ends = line_ends(np.frombuffer(buffer, dtype=np.uint8))
    offsets = np.zeros(len(ends) + 1, dtype=np.int64)
    offsets[1:] = ends
    if offsets[-1] != buffer.size:
        raise ValueError("the CSV body does not end with a line end")
    return pa.Array.from_buffers(pa.large_binary(), len(ends), [None, pa.py_buffer(offsets), buffer])


def body_bytes(lines: pa.Array) -> pa.Buffer:
    """The bytes of ``lines`` (as ``as_lines`` gives them, or taken from them), one after another."""
    lines = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
    _, offsets_buf, data = lines.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64, count=len(lines) + 1, offset=lines.offset * 8)
    return data.slice(int(offsets[0]), int(offsets[-1] - offsets[0]))


@dataclass(frozen=True)
class KeyedLines:
    """A CSV file's header, its lines and the id of each line, in increasing id order. ``order``, when
    given, says which lines make the file, in order: positions in ``lines`` (the last file's), then in
    ``added`` (the new ones) after them; a splice's lines are taken in order only as they are written."""

    header: bytes
    lines: pa.Array  # large_binary, one per data row, line end included
    ids: pa.Array  # string, strictly increasing
    order: np.ndarray | None = None
    added: pa.Array | None = None  # large_binary: the lines ``order`` names from len(lines) on

    def __len__(self) -> int:
        return len(self.lines) if self.order is None else len(self.order)

    @classmethod
    def parse(cls, data: bytes, id_column: str) -> KeyedLines | None:
        """The file ``data``, or None when it is not one our writer wrote in id order (an older release
        wrote rows in another order): its lines and parsed rows disagree, or ids repeat or go backwards."""
        end = data.find(b"\n") + 1
        if end <= 0:
            return None
        header = data[:end]
        names = next(csv.reader(io.StringIO(header.decode("utf-8"))))
        if id_column not in names:
            return None
        view = memoryview(data)[end:]
        lines = as_lines(view)
        if not len(lines):
            return cls(header, lines, pa.array([], pa.string()))
        parsed = pa_csv.read_csv(
            pa.BufferReader(pa.py_buffer(view)),
            read_options=pa_csv.ReadOptions(column_names=names, use_threads=True),
            parse_options=pa_csv.ParseOptions(newlines_in_values=data.find(b'"', end) >= 0),
            convert_options=pa_csv.ConvertOptions(include_columns=[id_column], column_types={id_column: pa.string()},
                                                  strings_can_be_null=False, quoted_strings_can_be_null=False))
        ids = parsed.column(id_column).combine_chunks()
        if len(ids) != len(lines) or not increasing(ids):
            return None
        return cls(header, lines, ids)

    def replaced(self, ids: pa.Array, new_lines: pa.Array, new_ids: pa.Array) -> KeyedLines:
        """These lines with every line of an id in ``ids`` left out, and ``new_lines`` (ids ``new_ids``,
        all of them among ``ids``) merged in, in id order."""
        if self.order is not None:
            raise ValueError("lines already replaced once are replaced again only once written")
        if len(new_lines) != len(new_ids):
            raise ValueError(f"{len(new_lines)} new lines for {len(new_ids)} ids")
        if not pc.all(pc.is_in(new_ids, value_set=ids), min_count=0).as_py():
            raise ValueError("a new line's id is not among the ids replaced")
        kept = np.flatnonzero(pc.invert(pc.is_in(self.ids, value_set=ids)).to_numpy(zero_copy_only=False))
        merged_ids = pa.concat_arrays([self.ids.take(pa.array(kept)), new_ids.cast(pa.string())])
        by_id = pc.sort_indices(merged_ids)
        merged_ids = merged_ids.take(by_id)
        if not increasing(merged_ids):
            raise ValueError("an id has more than one line")
        order = np.concatenate([kept, len(self.lines) + np.arange(len(new_lines))])[by_id.to_numpy()]
        return KeyedLines(self.header, self.lines, merged_ids, order, new_lines.cast(pa.large_binary()))

    def bodies(self, rows: int = 262_144) -> Iterator[pa.Buffer]:
        """The file's lines, as bytes, ``rows`` lines at a time (taking them all at once costs a copy of
        the whole file, and the memory)."""
        if self.order is None:
            yield body_bytes(self.lines)
            return
        # The last file's lines and the new ones are taken apart, then put in order, a batch at a time:
        # arrow's take from a chunked array of both joined the chunks again on every call (1.9 s a million
        # rows), and joining them once allocates the whole file's bytes afresh (1 s of page faults).
        n = len(self.lines)
        for start in range(0, len(self.order), rows):
            batch = self.order[start:start + rows]
            new = batch >= n
            if not new.any():
                yield body_bytes(self.lines.take(pa.array(batch)))
                continue
            kept = len(batch) - int(new.sum())
            parts = pa.concat_arrays([self.lines.take(pa.array(batch[~new])),
                                      self.added.take(pa.array(batch[new] - n))])
            at = np.empty(len(batch), dtype=np.int64)  # where each line of the batch is in ``parts``
            at[~new], at[new] = np.arange(kept), np.arange(kept, len(batch))
            yield body_bytes(parts.take(pa.array(at)))


@dataclass(frozen=True)
class RowSplice:
    """A file to write as ``previous`` with the lines of ``ids`` replaced by those built now."""

    previous: KeyedLines
    ids: pa.Array  # string


def increasing(ids: pa.Array) -> bool:
    """Whether every id is greater than the one before (byte order)."""
    if len(ids) < 2:
        return True
    return bool(pc.all(pc.less(ids.slice(0, len(ids) - 1), ids.slice(1))).as_py())
