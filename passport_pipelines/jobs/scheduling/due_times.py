"""The due times of a district's schedule, in its own time zone (daylight saving included).

Pure functions of the schedule and a moment, so the Dagster schedule, ``passport integrations
list`` and the tests agree on when a district syncs next.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from passport_pipelines.config.schedule import DAYS, SyncSchedule


def _at(day: date, schedule: SyncSchedule) -> datetime:
    return datetime.combine(day, schedule.clock, tzinfo=schedule.zone)


def _hour_mark(moment: datetime, schedule: SyncSchedule, hours: int) -> datetime:
    """The hourly mark ``hours`` from the one in ``moment``'s hour (UTC arithmetic: DST-safe)."""
    mark = moment.astimezone(schedule.zone).replace(minute=schedule.clock.minute, second=0, microsecond=0)
    return (mark.astimezone(timezone.utc) + timedelta(hours=hours)).astimezone(schedule.zone)


def latest_due(schedule: SyncSchedule, now: datetime) -> datetime | None:
    """The last scheduled moment at or before ``now``; None without a cadence."""
    local = now.astimezone(schedule.zone)
    if schedule.every == "hourly":
        mark = _hour_mark(local, schedule, 0)
        return mark if mark <= local else _hour_mark(local, schedule, -1)
    if schedule.every == "daily":
        mark = _at(local.date(), schedule)
        return mark if mark <= local else _at(local.date() - timedelta(days=1), schedule)
    if schedule.every == "weekly":
        back = (local.weekday() - DAYS.index(schedule.day)) % 7
        mark = _at(local.date() - timedelta(days=back), schedule)
        return mark if mark <= local else _at(mark.date() - timedelta(days=7), schedule)
    return None


def next_due(schedule: SyncSchedule, now: datetime) -> datetime | None:
    """The first scheduled moment after ``now``, unless the schedule has expired by then."""
    local = now.astimezone(schedule.zone)
    if schedule.every == "hourly":
        mark = _hour_mark(local, schedule, 0)
        found = mark if mark > local else _hour_mark(local, schedule, 1)
    elif schedule.every == "daily":
        mark = _at(local.date(), schedule)
        found = mark if mark > local else _at(local.date() + timedelta(days=1), schedule)
    elif schedule.every == "weekly":
        ahead = (DAYS.index(schedule.day) - local.weekday()) % 7
        mark = _at(local.date() + timedelta(days=ahead), schedule)
        found = mark if mark > local else _at(mark.date() + timedelta(days=7), schedule)
    else:
        return None
    return None if schedule.expired(found) else found


def school_year_start(schedule: SyncSchedule, school_year: str) -> datetime | None:
    """The moment the school year's start-of-year sync is due: its first day, at the schedule's time."""
    if schedule.school_year_start is None:
        return None
    month, day = (int(p) for p in schedule.school_year_start.split("-"))
    return _at(date(int(school_year[:4]), month, day), schedule)


def first_day_due(schedule: SyncSchedule, first_day: date) -> datetime | None:
    """The first-day-of-school sync: 12:00 am (the day's first moment) of ``first_day`` in the
    schedule's time zone; None when the schedule has it off."""
    return datetime.combine(first_day, time(0, 0), tzinfo=schedule.zone) if schedule.first_day_sync else None


def current_school_year(school_years: list[str], schedule: SyncSchedule, now: datetime) -> str | None:
    """The latest of the district's school years that has started by ``now`` (its first one before
    any has); what scheduled and drop syncs sync."""
    start = schedule.school_year_start or "07-01"
    today = now.astimezone(schedule.zone).date()
    begun = [y for y in sorted(school_years) if date.fromisoformat(f"{y[:4]}-{start}") <= today]
    return begun[-1] if begun else min(school_years, default=None)
