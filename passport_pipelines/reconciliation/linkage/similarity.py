"""Similarity of two normalized values, in [0, 1], for whole arrays of record pairs at once.

Equal values score 1 without being looked at; the rest is computed once per distinct pair of values
with ``rapidfuzz.process.cpdist`` over aligned arrays (all cores), never in a Python loop:

- names: Jaro-Winkler (rewards a shared beginning; "Jon"/"John" 0.93, "Emma"/"Olivia" 0.0);
- e-mails, codes and custom text: normalized Levenshtein (1 - edits / longer length);
- categories (sex, role, grades): 1 when equal, else 0;
- dates (YYYYMMDD): 1 when equal; 0.8 when one digit is mistyped, two adjacent digits of the year,
  month or day are swapped, or day and month are swapped (an entry error, not another day); anything
  else 0, since two dates further apart are, in school data, two children (siblings are born years
  apart, twins the same day).
  Computed on a digit matrix in numpy; dates that are not 8 digits fall back to rapidfuzz's OSA
  distance.
"""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc
from rapidfuzz import process
from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein

from passport_pipelines.reconciliation.linkage.encoding import BLANK, EncodedAttribute

DATE_TYPO = 0.8
TOLERANCE = 1e-9  # floating-point noise allowed at a threshold


def _cpdist(attribute: EncodedAttribute, ui: np.ndarray, uj: np.ndarray, scorer) -> np.ndarray:
    values = attribute.objects
    return process.cpdist(values[ui], values[uj], scorer=scorer, workers=-1, dtype=np.float64)


def _day_month_swapped(attribute: EncodedAttribute) -> np.ndarray:
    """For each distinct date, the code of the same date with day and month swapped (BLANK if none)."""
    u = attribute.uniques
    swapped = pc.binary_join_element_wise(pc.utf8_slice_codeunits(u, 0, 4), pc.utf8_slice_codeunits(u, 6, 8),
                                          pc.utf8_slice_codeunits(u, 4, 6), "")
    return pc.index_in(swapped, value_set=u).fill_null(BLANK).to_numpy(zero_copy_only=False).astype(np.int64)


def _digits(attribute: EncodedAttribute) -> np.ndarray | None:
    """The distinct dates as a (dates x 8) matrix of digit bytes; None when some are not 8 long."""
    u = attribute.uniques
    if len(u) == 0 or pc.min_max(pc.binary_length(u)).as_py() != {"min": 8, "max": 8}:
        return None
    offsets = np.frombuffer(u.buffers()[1], dtype=np.int32)[u.offset: u.offset + len(u) + 1]
    return np.frombuffer(u.buffers()[2], dtype=np.uint8)[offsets[0]: offsets[-1]].reshape(len(u), 8)


def _date_scores(attribute: EncodedAttribute, ci: np.ndarray, cj: np.ndarray) -> np.ndarray:
    swapped = attribute.memo("day_month_swapped", _day_month_swapped)[ci] == cj
    digits = attribute.memo("digits", _digits)
    if digits is None:
        one_edit = _cpdist(attribute, ci, cj, OSA.distance) <= 1
    else:
        a, b = digits[ci], digits[cj]
        differ = a != b
        mismatches = differ.sum(axis=1)
        # Two adjacent digits of one part (year, month or day) swapped: exactly two mismatches, next
        # to each other and crosswise equal. YYYY|MM|DD: digits 3-4 and 5-6 are not adjacent as typed.
        k = np.argmax(differ, axis=1)
        nxt = np.minimum(k + 1, 7)
        rows = np.arange(len(ci))
        transposed = ((mismatches == 2) & (k != 3) & (k != 5) & differ[rows, nxt]
                      & (a[rows, k] == b[rows, nxt]) & (a[rows, nxt] == b[rows, k]))
        one_edit = (mismatches <= 1) | transposed
    return np.where(one_edit | swapped, DATE_TYPO, 0.0)


def _scores_of_distinct(attribute: EncodedAttribute, ui: np.ndarray, uj: np.ndarray) -> np.ndarray:
    kind = attribute.kind
    if kind == "category":
        return np.zeros(len(ui))
    if kind == "name":
        return _cpdist(attribute, ui, uj, JaroWinkler.normalized_similarity)
    return _cpdist(attribute, ui, uj, Levenshtein.normalized_similarity)


def similarity(attribute: EncodedAttribute, ci: np.ndarray, cj: np.ndarray) -> np.ndarray:
    """Similarity of the values coded ``ci`` and ``cj`` (codes into ``attribute``'s distinct values),
    pair by pair; 0 where either is blank."""
    scores = np.zeros(len(ci))
    present = (ci != BLANK) & (cj != BLANK)
    equal = present & (ci == cj)
    scores[equal] = 1.0
    differ = np.flatnonzero(present & ~equal)
    if len(differ) == 0:
        return scores
    if attribute.kind == "date":
        scores[differ] = _date_scores(attribute, ci[differ], cj[differ])
        return scores
    # Score each distinct pair of values once: pairs of names repeat a lot.
    size = len(attribute.uniques)
    distinct, inverse = np.unique(ci[differ] * size + cj[differ], return_inverse=True)
    scores[differ] = _scores_of_distinct(attribute, distinct // size, distinct % size)[inverse]
    return scores
