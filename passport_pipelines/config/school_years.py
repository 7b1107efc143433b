"""What a school year is, for every place that accepts one: ``YYYY-YYYY``, the second year right
after the first, within the years the hub plans for.

A school year becomes a partition key, a folder name and part of file names, so it is checked
strictly: ASCII digits only (``\\d`` would take other scripts' digits too), no surrounding space
or trailing newline, and no year a district could not mean (a typo like ``2205-2206``).
"""

from __future__ import annotations

import re

FIRST_YEAR = 2000  # the earliest school year accepted starts in this year: 2000-2001
LAST_YEAR = 2099  # the latest ends in this year: 2098-2099
_FORM = re.compile(r"([0-9]{4})-([0-9]{4})")


def check_school_year(value: str) -> str:
    """``value`` when it is a plausible school year; ValueError saying what is wrong otherwise."""
    match = _FORM.fullmatch(value) if isinstance(value, str) else None
    if match is None or int(match.group(2)) != int(match.group(1)) + 1:
        raise ValueError(f"{value!r} is not a school year like 2025-2026 (YYYY-YYYY, the second year right "
                         "after the first)")
    if not FIRST_YEAR <= int(match.group(1)) < LAST_YEAR:
        raise ValueError(f"{value!r} is outside the school years the hub accepts, {FIRST_YEAR}-{FIRST_YEAR + 1} "
                         f"to {LAST_YEAR - 1}-{LAST_YEAR}")
    return value
