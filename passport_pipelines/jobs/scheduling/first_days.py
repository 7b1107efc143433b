"""The first day of each school year, as the districts' SIS calendars give it: the start of the
year's ``schoolYear`` academic session on record in the golden store.

Read for the whole fleet in one query per tick of the ``district_syncs`` schedule. A year whose
calendar has not been synced yet (no schoolYear session on record) has no first day, so no
first-day sync: the regular schedule and ``school_year_start`` bring it in first. Where several
sources (or schools) carry the year's session, the earliest start counts.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, or_, select

from passport_pipelines.store import schema
from passport_pipelines.store.golden_store import GoldenStore


def school_year_first_days(store: GoldenStore, districts: list[str]) -> dict[str, dict[str, date]]:
    """district -> school year -> its first day, for the districts given."""
    if not districts:
        return {}
    sessions = schema.golden_tables["academic_sessions"]
    ending = func.substr(sessions.c.school_year, 6, 4)  # "2025-2026" -> "2026"
    query = (select(sessions.c.district, sessions.c.school_year, func.min(sessions.c.start_date))
             .where(sessions.c.district.in_(sorted(set(districts))), sessions.c.type == "schoolYear",
                    sessions.c.deleted_version.is_(None),
                    or_(sessions.c.ending_year.is_(None), sessions.c.ending_year == ending))
             .group_by(sessions.c.district, sessions.c.school_year))
    out: dict[str, dict[str, date]] = {}
    with store.engine.connect() as conn:
        for district, year, start in conn.execute(query):
            try:
                out.setdefault(district, {})[year] = date.fromisoformat(str(start)[:10])
            except (TypeError, ValueError):
                continue  # not a date: canonical validation keeps these out; never a reason to skip a tick
    return out
