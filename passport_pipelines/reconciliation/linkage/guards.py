"""The twin guard: twins, siblings sharing a guardian's e-mail and recycled ids are real
in school data, so some pairs are never merged unattended, whatever domain found them.

A pair is held for review when
- both records have a value for a distinguishing attribute (birth_date and state_id by default) and
  the values differ after normalization ("differs on birth_date"), or
- they share family name and birth date but have different given names: twins
  ("twin guard: same family_name and birth_date, different given_name").

Reasons name attributes only, never values: the values are student data.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from passport_pipelines.reconciliation.linkage.encoding import BLANK
from passport_pipelines.reconciliation.linkage.records import PreparedRecords

TWIN_REASON = "twin guard: same family_name and birth_date, different given_name"


def _both_differ(records: PreparedRecords, name: str, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    codes = records.attributes[name].codes
    a, b = codes[left], codes[right]
    return (a != BLANK) & (b != BLANK) & (a != b)


def _both_equal(records: PreparedRecords, name: str, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    codes = records.attributes[name].codes
    a, b = codes[left], codes[right]
    return (a != BLANK) & (a == b)


def _reason(differing: list[str], twins: bool) -> str | None:
    parts = ([f"differs on {', '.join(differing)}"] if differing else []) + ([TWIN_REASON] if twins else [])
    return "; ".join(parts) or None


def guard_reasons(records: PreparedRecords, left: np.ndarray, right: np.ndarray,
                  distinguishing: Sequence[str]) -> np.ndarray:
    """Per pair, why it must not be merged (an object array, None where nothing holds it back)."""
    checked = [a for a in distinguishing if records.has(a)]
    # One bit per distinguishing attribute plus one for twins; reasons are built once per bit pattern.
    bits = np.zeros(len(left), dtype=np.int64)
    for k, name in enumerate(checked):
        bits |= _both_differ(records, name, left, right).astype(np.int64) << k
    twin_bit = len(checked)
    if all(records.has(a) for a in ("given_name", "family_name", "birth_date")):
        twins = (_both_equal(records, "family_name", left, right) & _both_equal(records, "birth_date", left, right)
                 & _both_differ(records, "given_name", left, right))
        bits |= twins.astype(np.int64) << twin_bit
    patterns, inverse = np.unique(bits, return_inverse=True)
    table = np.array([_reason([a for k, a in enumerate(checked) if p >> k & 1], bool(p >> twin_bit & 1))
                      for p in patterns], dtype=object)
    return table[inverse] if len(bits) else np.array([], dtype=object)
