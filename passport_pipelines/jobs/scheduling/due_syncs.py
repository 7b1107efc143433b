"""Which scheduled syncs of a district fall due in one tick of the ``district_syncs`` schedule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterable, Mapping

from passport_pipelines.config.integration import Integration
from passport_pipelines.jobs.scheduling.due_times import (
    current_school_year,
    first_day_due,
    latest_due,
    school_year_start,
)


@dataclass(frozen=True)
class DueSync:
    district: str
    school_year: str
    due: datetime
    trigger: str  # "schedule"; "year_start": school_year_start; "first_day": the SIS calendar's first day

    @property
    def run_key(self) -> str:
        # One run per district, year and moment, however many ticks or reasons see it.
        return f"{self.district}|{self.school_year}|{self.due.isoformat()}"


def due_syncs(integration: Integration, now: datetime, window: timedelta,
              first_days: Mapping[str, date] | None = None) -> list[DueSync]:
    """The syncs due in (now - window, now]: none while paused or after the schedule's expiry.
    ``first_days``: school year -> its first day as the SIS calendar gives it (``first_days.py``)."""
    schedule = integration.schedule
    if integration.paused_on(now.astimezone(schedule.zone).date()) or schedule.expired(now):
        return []

    def in_window(moment: datetime | None) -> bool:
        return moment is not None and now - window < moment <= now

    found: dict[str, DueSync] = {}
    for year in integration.school_years:
        start = school_year_start(schedule, year)
        if in_window(start):
            sync = DueSync(integration.district, year, start, "year_start")
            found[sync.run_key] = sync
        first = (first_days or {}).get(year)
        midnight = first_day_due(schedule, first) if first is not None else None
        if in_window(midnight):
            sync = DueSync(integration.district, year, midnight, "first_day")
            found.setdefault(sync.run_key, sync)
    due = latest_due(schedule, now)
    year = current_school_year(integration.school_years, schedule, now)
    if in_window(due) and year is not None:
        found.setdefault(f"{integration.district}|{year}|{due.isoformat()}",
                         DueSync(integration.district, year, due, "schedule"))
    return list(found.values())


def fleet_due_syncs(integrations: Iterable[Integration], now: datetime, window: timedelta,
                    first_days: Mapping[str, Mapping[str, date]] | None = None) -> tuple[list[DueSync], list[str]]:
    """The due syncs of every district, and a warning for each district whose schedule could not
    be worked out. One district's broken schedule (a date the config should have refused) skips
    that district for the tick; it never stops the others' syncs."""
    due: list[DueSync] = []
    warnings: list[str] = []
    for integration in integrations:
        try:
            due.extend(due_syncs(integration, now, window, (first_days or {}).get(integration.district)))
        except Exception as exc:  # noqa: BLE001 -- whatever it is, the rest of the fleet still syncs
            warnings.append(f"{integration.district}: no scheduled sync this tick, its schedule cannot be "
                            f"worked out ({type(exc).__name__}: {exc})")
    return due, warnings
