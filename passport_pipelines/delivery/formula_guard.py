"""Neutralize spreadsheet formulas in exported text (CSV / formula injection).

Exports end up opened in Excel, LibreOffice or Google Sheets by district staff. A cell whose text starts
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is interpreted there as a formula, so a student
named ``=HYPERLINK("http://evil","click")`` could run code or leak data on the reader's machine. Following
the OWASP "CSV Injection" guidance, such cells get a leading apostrophe (``'``), which spreadsheets read as
"this is text" and hide. Nulls stay null; other values are unchanged.

What is guarded depends on the column's kind:

- ``text`` (every column but the phone numbers): every value led by one of the six characters.
- ``phone`` (``phone`` and ``sms``): an international number is written ``+16265554086`` or
  ``+1 (626) 555-4086``: a ``+`` followed only by digits, spaces, dashes, dots and parentheses (at
  least one digit) is delivered as it is, since an apostrophe would alter the number a messaging
  system reads. Anything else led by a trigger character, ``+1+cmd|' /C calc'!A0`` or ``=1+1``
  included, is guarded as in text.
- ``number`` (gradebook scores and bounds: ``score``, ``resultValueMin``, ``resultValueMax``, ``weight``): a
  plain number such as ``-2.5`` is delivered as it is (validation has read every one as a number); anything
  else led by a trigger character is guarded as in text.

Everything here is vectorized: the check looks at the first byte of each value straight from the Arrow
buffers (all six trigger characters are single ASCII bytes, so this is exact for UTF-8), and only the
affected values are rewritten.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PREFIX = "'"
TEXT, PHONE, NUMBER = "text", "phone", "number"
PHONE_COLUMNS = frozenset({"phone", "sms"})
NUMBER_COLUMNS = frozenset({"score", "resultValueMin", "resultValueMax", "weight"})
# An international phone number as people write it: nothing a spreadsheet could call or refer to.
PHONE_NUMBER = r"^\+[0-9 ().\-]*[0-9][0-9 ().\-]*$"
# A signed decimal number: a spreadsheet reads it as that number, never as a formula.
PLAIN_NUMBER = r"^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$"
_ALLOWED = {PHONE: PHONE_NUMBER, NUMBER: PLAIN_NUMBER}

_TRIGGER_BYTES = np.zeros(256, dtype=bool)
_TRIGGER_BYTES[[ord(c) for c in FORMULA_TRIGGERS]] = True


def _offsets_and_data(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The value offsets (len(arr) + 1, relative to the data buffer) and data bytes of a string array."""
    _, offsets_buf, data_buf = arr.buffers()[:3]
    width = np.int64 if pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type) else np.int32
    offsets = np.frombuffer(offsets_buf, dtype=width, count=len(arr) + 1, offset=arr.offset * np.dtype(width).itemsize)
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.empty(0, dtype=np.uint8)
    return offsets, data


def column_kind(column: str) -> str:
    """The guard's kind of a delivered column (by its OneRoster name): ``phone``, ``number`` or ``text``."""
    return PHONE if column in PHONE_COLUMNS else NUMBER if column in NUMBER_COLUMNS else TEXT


def formula_mask(arr: pa.Array, kind: str = TEXT) -> np.ndarray:
    """A boolean numpy mask of the non-null values of a string array that start with a trigger character."""
    n = len(arr)
    if n == 0:
        return np.zeros(0, dtype=bool)
    offsets, data = _offsets_and_data(arr)
    starts, ends = offsets[:-1], offsets[1:]
    if data.size == 0:
        return np.zeros(n, dtype=bool)
    mask = _TRIGGER_BYTES[data[np.minimum(starts, data.size - 1)]]
    mask &= ends > starts
    if arr.null_count:
        mask &= arr.is_valid().to_numpy(zero_copy_only=False)
    if kind in _ALLOWED and mask.any():
        # Only the few flagged values are matched against the pattern.
        flagged = np.flatnonzero(mask)
        numbers = pc.match_substring_regex(arr.take(pa.array(flagged)), _ALLOWED[kind]).to_numpy(zero_copy_only=False)
        mask[flagged[numbers]] = False
    return mask


def neutralize_array(arr: pa.Array | pa.ChunkedArray, kind: str = TEXT) -> pa.Array | pa.ChunkedArray:
    """The Arrow version of :func:`neutralize_formulas` for string / large_string arrays."""
    if isinstance(arr, pa.ChunkedArray):
        return pa.chunked_array([neutralize_array(c, kind) for c in arr.chunks], type=arr.type)
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        raise TypeError(f"neutralize_array expects a string array, got {arr.type}")
    mask = formula_mask(arr, kind)
    if not mask.any():
        return arr
    pa_mask = pa.array(mask)
    prefixed = pc.binary_join_element_wise(PREFIX, arr.filter(pa_mask), "")
    return pc.replace_with_mask(arr, pa_mask, prefixed.cast(arr.type))


def neutralize_formulas(series: pd.Series, kind: str = TEXT) -> pd.Series:
    """Prefix ``'`` to every text value that a spreadsheet would read as a formula.

    Values starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return are prefixed (in a
    ``phone`` column, phone numbers led by ``+`` excepted); nulls stay null; the index, name and
    (string) dtype are kept. Non-text values in an object column are left alone.
    """
    if len(series) == 0:
        return series.copy()
    dtype = series.dtype
    if isinstance(dtype, pd.ArrowDtype) and (
        pa.types.is_string(dtype.pyarrow_dtype) or pa.types.is_large_string(dtype.pyarrow_dtype)
    ):
        out = neutralize_array(pa.chunked_array(series.array._pa_array), kind)
        return pd.Series(pd.arrays.ArrowExtensionArray(out), index=series.index, name=series.name)
    if isinstance(dtype, pd.StringDtype) or dtype == object:
        try:
            arr = pa.array(series, type=pa.string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            return _neutralize_mixed(series, kind)
        mask = formula_mask(arr, kind)
        if not mask.any():
            return series.copy()
        out = series.copy()
        out[mask] = PREFIX + series[mask].astype(str)
        return out
    if isinstance(dtype, pd.CategoricalDtype):
        return neutralize_formulas(series.astype(object), kind)
    return series.copy()  # numbers, booleans, dates: not text


def _neutralize_mixed(series: pd.Series, kind: str) -> pd.Series:
    """Object columns holding non-string values too: only the strings are looked at."""
    mask = series.str.match(r"[=+\-@\t\r]", na=False).to_numpy(dtype=bool)
    if kind in _ALLOWED:
        mask &= ~series.str.match(_ALLOWED[kind], na=False).to_numpy(dtype=bool)
    out = series.copy()
    if mask.any():
        out[mask] = PREFIX + series[mask].astype(str)
    return out
