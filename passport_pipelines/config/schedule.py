"""When a district syncs unattended, and when it does not.

```yaml
schedule:
  every: daily              # hourly | daily | weekly
  at: "05:30"               # time of day (hourly: its minutes, here :30)
  day: monday               # weekly only
  timezone: America/Chicago # IANA name; default UTC
  until: 2027-06-30         # expiry date: no scheduled syncs after it
  school_year_start: "07-01"  # the new school year syncs on this day (null: no such sync)
  first_day_sync: true      # also at 12:00 am on the school year's first day, as the SIS calendar gives it
  on_new_drop: true         # also sync when a new CSV drop lands (folder or SFTP sources)
pause:                      # summer: no scheduled or sensor syncs; manual ones need --force
  from: 2026-06-20
  until: 2026-08-15
```
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo, available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
CLOCK = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")
MONTH_DAY = re.compile(r"(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])")
# Days in each month of every year: 02-29 is left out, since most years have no such day.
MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones()) | {"UTC"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class SyncSchedule(_Strict):
    every: Literal["hourly", "daily", "weekly"] | None = Field(
        None, description="cadence of unattended syncs; none: only on a new drop or by hand")
    at: str = Field("02:00", description='time of day "HH:MM" (hourly: the minutes)')
    day: Literal[DAYS] = Field("monday", description="weekly: the day")  # type: ignore[valid-type]
    timezone: str = "UTC"
    until: date | None = Field(None, description="no scheduled syncs after this day")
    school_year_start: str | None = Field("07-01", description='"MM-DD": the new school year syncs on this day')
    on_new_drop: bool = Field(False, description="sync when a new CSV drop lands in a folder or SFTP source")
    first_day_sync: bool = Field(
        True, description="sync at 12:00 am on each school year's first day as the SIS calendar gives it (the "
                          "start of its schoolYear session on record); the regular schedule stays as it is")

    @field_validator("at", mode="before")
    @classmethod
    def _clock(cls, v: object) -> object:
        if isinstance(v, int) and not isinstance(v, bool):
            # YAML 1.1 reads an unquoted 5:30 as the base-60 number 330.
            raise ValueError(f'was read as the number {v}; write the time of day in quotes, like at: "05:30"')
        if isinstance(v, str) and not CLOCK.fullmatch(v):
            raise ValueError(f'{v!r} is not a time of day like "05:30" (00:00 to 23:59)')
        return v

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        # Checked against the list of IANA names, not by opening a file named after the value:
        # "America" (a folder), "../x" or a 300-character name would fail in other ways than "unknown".
        if v not in _zones():
            raise ValueError(f"{v!r} is not an IANA time zone like America/Chicago")
        return v

    @field_validator("school_year_start")
    @classmethod
    def _month_day(cls, v: str | None) -> str | None:
        if v is None:
            return v
        match = MONTH_DAY.fullmatch(v)
        if not match:
            raise ValueError(f'{v!r} is not a day of the year like "07-01" (MM-DD)')
        month, day = int(match.group(1)), int(match.group(2))
        if day > MONTH_DAYS[month - 1]:
            raise ValueError(f'{v!r} is not a day every year has (month {month:02d} has {MONTH_DAYS[month - 1]} '
                             "days; 02-29 only comes in leap years)")
        return v

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def clock(self) -> time:
        hour, minute = self.at.split(":")
        return time(int(hour), int(minute))

    def expired(self, now: datetime) -> bool:
        return self.until is not None and now.astimezone(self.zone).date() > self.until


class Pause(_Strict):
    from_: date = Field(alias="from")
    until: date

    @model_validator(mode="after")
    def _order(self) -> "Pause":
        if self.until < self.from_:
            raise ValueError(f"pause: until ({self.until}) is before from ({self.from_})")
        return self

    def covers(self, day: date) -> bool:
        return self.from_ <= day <= self.until
