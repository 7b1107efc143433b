"""What golden data holds that a OneRoster CSV binding cannot carry as it is, and what the export writes
instead, so that no cell is ever written invalid. Each conversion is vectorized over a chunk and says how
many cells it changed (the export logs the totals; never a value).

- ``subjectCodes`` pairs entry by entry with ``subjects`` (courses, classes): codes whose count differs
  from the subjects' (or codes without subjects) cannot be paired, and are written blank.
- ``username`` is required in ``users.csv``; a person without one (a source that has no logins) is
  written with their ``email``, else their delivered ``sourcedId``.
- ``sex`` in 1.1 is ``male`` or ``female``: the 1.2 values ``other`` and ``unspecified`` are written blank
  in 1.1 files (the column is optional).
- In 1.1, ``lineItems.csv`` requires ``resultValueMin``/``resultValueMax`` and ``results.csv`` a ``score``,
  which 1.2 gradebooks may lack: such line items (with their results) and results are left out of 1.1
  files, and counted.
- A user's 1.2-only role is written as its 1.1 role in 1.1 (``oneroster_export.ROLE_TO_11``), and 1.1's
  ``administrator`` as 1.2's ``districtAdministrator`` or ``siteAdministrator`` in ``roles.csv``.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

SEXES_11 = ("male", "female")
_NULL = pa.scalar(None, pa.string())


def _changed(before: pa.Array, after: pa.Array) -> int:
    differs = pc.fill_null(pc.not_equal(before, after), True)
    both_null = pc.and_(before.is_null(), after.is_null())
    return int(pc.sum(pc.and_not(differs, both_null)).as_py() or 0)


def _entries(arr: pa.Array) -> pa.Array:
    """Entries of a comma-separated list cell; null for a blank or comma-only cell."""
    items = pc.list_value_length(pc.split_pattern(pc.utf8_trim(arr, " ,"), ","))
    blank = pc.fill_null(pc.equal(pc.utf8_trim(arr, " ,"), ""), True)
    return pc.if_else(blank, pa.scalar(None, pa.int32()), items)


def paired_codes(codes: pa.Array, items: pa.Array) -> tuple[pa.Array, int]:
    """``codes`` where they give one code per entry of ``items``, else blank."""
    n_codes, n_items = _entries(codes), _entries(items)
    keep = pc.or_(pc.is_null(n_codes), pc.fill_null(pc.equal(n_codes, n_items), False))
    out = pc.if_else(keep, codes, _NULL)
    return out, _changed(codes, out)


def username_or_fallback(usernames: pa.Array, emails: pa.Array, ids: pa.Array) -> tuple[pa.Array, int]:
    """The username, else the e-mail, else the sourcedId: ``users.csv`` requires one."""
    def blank_as_null(arr: pa.Array) -> pa.Array:
        return pc.if_else(pc.fill_null(pc.equal(pc.utf8_trim_whitespace(arr), ""), True), _NULL, arr)
    out = pc.coalesce(blank_as_null(usernames), blank_as_null(emails), ids)
    return out, _changed(usernames, out)


def sex_for_11(sexes: pa.Array) -> tuple[pa.Array, int]:
    """1.1 knows male and female only: any other value is written blank."""
    out = pc.if_else(pc.is_in(sexes, value_set=pa.array(SEXES_11)), sexes, _NULL)
    return out, _changed(sexes, out)


def _filled(arr: pa.Array) -> pa.Array:
    return pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(arr), ""), False)


def line_items_11(result_value_min: pa.Array, result_value_max: pa.Array) -> pa.Array:
    """Which line items 1.1 can carry: it requires ``resultValueMin`` and ``resultValueMax`` (1.2 does not)."""
    return pc.and_(_filled(result_value_min), _filled(result_value_max))


def results_11(scores: pa.Array, line_items: pa.Array, line_items_left_out: pa.Array) -> pa.Array:
    """Which results 1.1 can carry: it requires a ``score`` (a 1.2 result may hold only a ``textScore``),
    and the result's line item must be delivered."""
    orphaned = pc.fill_null(pc.is_in(line_items, value_set=line_items_left_out), False)
    return pc.and_(_filled(scores), pc.invert(orphaned))
