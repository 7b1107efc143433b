"""The engine's input, checked and prepared: records sorted by ``record_key`` and the attributes that
matching needs, normalized and encoded.

Records are addressed by their position in ``record_key`` order from here on. That makes
"left_key < right_key" the same as "left position < right position" and "the smallest record_key of a
cluster" the same as its smallest position, so pairs and clusters stay integer arrays until the result
is written.

Sorting a million keys costs about a second, so a caller that keeps prepared records between runs
(``revision.py``) may leave them in any order (``key_ordered=False``): the engine then puts only the
records of candidate pairs in key order, once blocking has found them (``in_key_order``).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from passport_pipelines.reconciliation.linkage.attribute_kinds import kind_of
from passport_pipelines.reconciliation.linkage.encoding import EncodedAttribute, encode


@dataclass(frozen=True)
class PreparedRecords:
    keys: pa.Array  # record_key, unique; a record's position is its id
    attributes: dict[str, EncodedAttribute]  # every attribute matching needs and the input has
    key_ordered: bool = True  # positions follow record_key order (ascending)

    def __len__(self) -> int:
        return len(self.keys)

    def has(self, attribute: str) -> bool:
        return attribute in self.attributes

    def focus(self, compare_keys: pa.Array | pa.ChunkedArray | Iterable[str] | None) -> np.ndarray | None:
        """Positions' membership in ``compare_keys`` (keys the records do not have are ignored)."""
        if compare_keys is None:
            return None
        if isinstance(compare_keys, pa.ChunkedArray):
            compare_keys = compare_keys.combine_chunks()
        elif not isinstance(compare_keys, pa.Array):
            compare_keys = pa.array(list(compare_keys), pa.string())
        return pc.is_in(self.keys, value_set=compare_keys.cast(pa.string())).to_numpy(zero_copy_only=False)


def _as_table(records: pa.Table | pd.DataFrame) -> pa.Table:
    if isinstance(records, pd.DataFrame):
        return pa.Table.from_pandas(records, preserve_index=False)
    if isinstance(records, pa.Table):
        return records
    raise TypeError(f"records must be a pyarrow.Table or a pandas.DataFrame, not {type(records).__name__}")


def prepare(records: pa.Table | pd.DataFrame, required: Iterable[str], optional: Iterable[str], *,
            key_order: bool = True) -> PreparedRecords:
    """Check the input and encode the ``required`` attributes (domain attributes: an error when the
    input lacks one) and those of ``optional`` it has (distinguishing attributes, twin guard).
    ``key_order=False``: positions are the input's rows (no sort), for a caller that keeps the
    prepared records aligned with its own table."""
    table = _as_table(records)
    if "record_key" not in table.column_names:
        raise ValueError("records need a record_key column (a unique string per record)")
    missing = [a for a in dict.fromkeys(required) if a not in table.column_names]
    if missing:
        raise ValueError(f"records have no column for domain attribute(s) {', '.join(missing)} "
                         f"(columns: {', '.join(table.column_names)})")
    keys = table.column("record_key").cast(pa.string()).combine_chunks()
    if keys.null_count:
        raise ValueError(f"record_key is null in {keys.null_count} record(s)")
    if key_order:
        order = pc.sort_indices(keys)
        prepared_keys = keys.take(order)
        repeats = pc.sum(pc.equal(prepared_keys.slice(1), prepared_keys.slice(0, max(len(keys) - 1, 0)))).as_py() or 0
        positions = order.to_numpy()
    else:
        prepared_keys, positions = keys, None
        repeats = len(keys) - pc.count_distinct(keys).as_py()
    if repeats:
        raise ValueError(f"record_key must be unique: {repeats} record(s) repeat a key")
    wanted = [a for a in dict.fromkeys([*required, *optional]) if a in table.column_names]

    def encoded(name: str) -> EncodedAttribute:
        # Encode in input order, then permute the integer codes: cheaper than reordering strings.
        e = encode(table.column(name), kind_of(name))
        return e if positions is None else EncodedAttribute(e.kind, e.codes[positions], e.uniques)

    # pyarrow kernels release the GIL: columns are normalized side by side.
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        attributes = dict(zip(wanted, pool.map(encoded, wanted)))
    return PreparedRecords(keys=prepared_keys, attributes=attributes, key_ordered=key_order)


def in_key_order(records: PreparedRecords, positions: np.ndarray) -> tuple[PreparedRecords, np.ndarray]:
    """The records at ``positions`` (unique), as prepared records of their own in record_key order;
    and, for each position's record, its position there. What the engine does with the records of
    candidate pairs only, when the records are not in key order: matching, guards and clusters
    read nothing but the pairs' records, so they give the same result on the smaller set."""
    order = pc.sort_indices(records.keys.take(positions)).to_numpy()
    members = positions[order]
    renumbered = np.empty(len(positions), dtype=np.int64)
    renumbered[order] = np.arange(len(positions))
    # Fresh attributes: derived codes memoized on the whole set (prefixes, years) are per record.
    attributes = {name: EncodedAttribute(a.kind, a.codes[members], a.uniques) for name, a in records.attributes.items()}
    return PreparedRecords(records.keys.take(members), attributes, key_ordered=True), renumbered
