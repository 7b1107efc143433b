"""An attribute column as integer codes of its normalized distinct values.

Equality after normalization becomes integer equality (``codes[i] == codes[j]``), blocking keys are
built from codes, and similarities are computed once per distinct pair of values instead of once per
record pair. Normalization runs on the raw column's distinct values only: a million students share a
few tens of thousands of names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from passport_pipelines.reconciliation.linkage.attribute_kinds import Kind
from passport_pipelines.reconciliation.linkage.normalization import as_text, normalize

BLANK = -1  # the code of a null or blank value


@dataclass(frozen=True)
class EncodedAttribute:
    """``uniques[codes[r]]`` is record r's normalized value; ``codes[r] == BLANK`` when it has none."""

    kind: Kind
    codes: np.ndarray  # int64, one per record
    uniques: pa.Array  # distinct normalized values, no nulls
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def objects(self) -> np.ndarray:
        """The distinct values as a numpy object array (what rapidfuzz reads)."""
        return np.asarray(self.uniques.to_pylist(), dtype=object)

    def memo(self, name: str, compute):
        """``compute(self)``, computed once per attribute (derived keys and lookup tables)."""
        if name not in self._cache:
            self._cache[name] = compute(self)
        return self._cache[name]

    def derived(self, name: str, transform) -> "EncodedAttribute":
        """A coarser attribute (a prefix, a year...) computed on the distinct values only."""
        return self.memo(name, lambda a: recode(a.codes, transform(a.uniques), a.kind))


def recode(codes: np.ndarray, values: pa.Array, kind: Kind) -> EncodedAttribute:
    """Codes into ``values`` (which may repeat or be null) -> codes into their distinct non-null values."""
    encoded = pc.dictionary_encode(values)
    remap = encoded.indices.fill_null(BLANK).to_numpy(zero_copy_only=False).astype(np.int64)
    remap = np.append(remap, BLANK)  # so that remap[BLANK] stays BLANK
    return EncodedAttribute(kind, remap[codes], encoded.dictionary)


def encode(column: pa.Array | pa.ChunkedArray, kind: Kind) -> EncodedAttribute:
    """Normalize and encode one attribute column."""
    raw = pc.dictionary_encode(as_text(column))
    codes = raw.indices.fill_null(BLANK).to_numpy(zero_copy_only=False).astype(np.int64)
    return recode(codes, normalize(raw.dictionary, kind), kind)


def shared_vocabulary(a: EncodedAttribute, b: EncodedAttribute) -> tuple[EncodedAttribute, EncodedAttribute]:
    """``a`` and ``b`` re-coded into one set of distinct values, so that a code of one can be compared
    with a code of the other (a given name with a family name)."""
    both = pc.dictionary_encode(pa.concat_arrays([a.uniques, b.uniques]))
    shared = both.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    to_a, to_b = np.append(shared[: len(a.uniques)], BLANK), np.append(shared[len(a.uniques):], BLANK)
    return (EncodedAttribute(a.kind, to_a[a.codes], both.dictionary),
            EncodedAttribute(b.kind, to_b[b.codes], both.dictionary))


def encode_into(attribute: EncodedAttribute, column: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """Raw values of ``attribute`` normalized and coded in its vocabulary, extended by the values it
    lacks: (the values' codes, the extended distinct values). Codes already given keep their meaning.

    The vocabulary may hold millions of e-mails, the column a few thousand values: hashing the big
    side into a set of the small side costs ~20 ns a value, building a set of the big side ~50 times
    more (``pc.index_in`` hashes its value set)."""
    fresh = encode(column, attribute.kind)
    # Per value of the vocabulary: its code among the fresh values, or BLANK.
    found = pc.index_in(attribute.uniques, value_set=fresh.uniques).fill_null(BLANK)
    found = found.to_numpy(zero_copy_only=False).astype(np.int64)
    known = np.flatnonzero(found != BLANK)
    to_vocabulary = np.full(len(fresh.uniques), BLANK, dtype=np.int64)
    to_vocabulary[found[known]] = known
    new = np.flatnonzero(to_vocabulary == BLANK)
    to_vocabulary[new] = len(attribute.uniques) + np.arange(len(new))
    uniques = pa.concat_arrays([attribute.uniques, fresh.uniques.take(new)]) if len(new) else attribute.uniques
    return np.append(to_vocabulary, BLANK)[fresh.codes], uniques
