"""Candidate pairs from blocking keys, through recordlinkage's indexing API.

Per pass, each record carries one integer blocking key (``blocking.py``). Records whose key is blank,
unique (nobody to pair with) or shared by more than ``MAX_BLOCK`` records are left out before
indexing: the first two can form no pair, and a key shared by thousands (a placeholder such as
"unknown", a district-wide e-mail) identifies nobody and would make millions of pairs.

``SortedBlock`` is a ``recordlinkage.index.Block`` (pairs of records with equal keys):
- incremental runs (``focus``) use Block's own link index, the focus records against all keyed
  records: a pandas hash join of a small table with a large one, only pairs with a focus record;
- full runs use a deduplication join of our own: Block's pandas self-merge materializes every block
  twice plus its diagonal (k² rows for k(k-1)/2 pairs), 3.5 s for the 6 M pairs of a name pass over a
  million people. Sorting the integer keys and enumerating each block's pairs in numpy makes exactly
  the pairs, in a tenth of the time.

Pairs are returned as ``(left, right)`` positions with ``left < right``, without repeats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from recordlinkage.index import Block

from passport_pipelines.reconciliation.linkage.encoding import BLANK

MAX_BLOCK = 1000


def pairs_within_blocks(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (i, j), i before j in key order, of rows with equal keys (positions into ``keys``)."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    sizes = np.diff(np.r_[starts, len(keys)])
    position = np.arange(len(keys))
    # Row p of a block ending at e pairs with rows p+1 .. e-1.
    partners = np.repeat(starts + sizes, sizes) - position - 1
    first = np.repeat(position, partners)
    step = np.arange(len(first)) - np.repeat(np.cumsum(partners) - partners, partners)
    return order[first], order[first + 1 + step]


class SortedBlock(Block):
    """recordlinkage's Block index on one key column, with a sort-based deduplication join."""

    def _dedup_index(self, df_a: pd.DataFrame) -> pd.MultiIndex:
        (column,) = [self.left_on] if isinstance(self.left_on, str) else self.left_on
        a, b = pairs_within_blocks(df_a[column].to_numpy())
        return pd.MultiIndex(levels=[df_a.index.values, df_a.index.values], codes=[a, b], verify_integrity=False)


@dataclass(frozen=True)
class Candidates:
    left: np.ndarray  # int64 positions, left < right, sorted by (left, right), unique
    right: np.ndarray
    oversized_blocks: int  # blocks left out for being larger than MAX_BLOCK

    def __len__(self) -> int:
        return len(self.left)


def _keyed(codes: np.ndarray) -> tuple[pd.DataFrame, int]:
    """The records worth indexing: a frame of their keys, indexed by position."""
    valid = codes != BLANK
    sizes = np.bincount(codes[valid]) if valid.any() else np.zeros(0, dtype=np.int64)
    size = np.zeros(len(codes), dtype=np.int64)
    size[valid] = sizes[codes[valid]]
    keep = (size > 1) & (size <= MAX_BLOCK)
    positions = np.flatnonzero(keep)
    return pd.DataFrame({"key": codes[positions]}, index=positions), int((sizes > MAX_BLOCK).sum())


def _positions(frame: pd.DataFrame, pairs: pd.MultiIndex, level: int) -> np.ndarray:
    return frame.index.to_numpy()[pairs.codes[level]]


def pass_pairs(codes: np.ndarray, focus: np.ndarray | None) -> tuple[np.ndarray, int]:
    """Candidate pairs of one blocking pass, encoded as ``left * n + right``; and oversized blocks."""
    n = len(codes)
    frame, oversized = _keyed(codes)
    index = SortedBlock(left_on="key")
    if frame.empty:
        return np.zeros(0, dtype=np.int64), oversized
    if focus is None:
        pairs = index.index(frame)
        a, b = _positions(frame, pairs, 0), _positions(frame, pairs, 1)
    else:
        focused = frame[focus[frame.index.to_numpy()]]
        if focused.empty:
            return np.zeros(0, dtype=np.int64), oversized
        pairs = index.index(focused, frame)
        a, b = _positions(focused, pairs, 0), _positions(frame, pairs, 1)
        distinct = a != b
        a, b = a[distinct], b[distinct]
    left, right = np.minimum(a, b), np.maximum(a, b)
    return left * n + right, oversized


def candidate_pairs(key_codes: list[np.ndarray], n: int, focus: np.ndarray | None = None) -> Candidates:
    """The union of the candidate pairs of every pass."""
    encoded, oversized = [], 0
    for codes in key_codes:
        pairs, skipped = pass_pairs(codes, focus)
        encoded.append(pairs)
        oversized += skipped
    pairs = np.unique(np.concatenate(encoded)) if encoded else np.zeros(0, dtype=np.int64)
    return Candidates(pairs // max(n, 1), pairs % max(n, 1), oversized)
