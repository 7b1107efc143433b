"""When a district syncs unattended (SPEC §8), and when it does not.

```yaml
schedule:
  every: daily              # hourly | daily | weekly
  at: "05:30"               # time of day (hourly: its minutes, here :30)
  day: monday               # weekly only
  timezone: America/Chicago # IANA name; default UTC
  until: 2027-06-30         # expiry date: no scheduled syncs after it
  school_year_start: "07-01"  # the new school year syncs on this day (null: no such sync)
  on_new_drop: true         # also sync when a new CSV drop lands (folder or SFTP sources)
pause:                      # summer: no scheduled or sensor syncs; manual ones need --force
  from: 2026-06-20
  until: 2026-08-15
```
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
MONTH_DAY = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")


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

    @field_validator("at")
    @classmethod
    def _clock(cls, v: str) -> str:
        if not CLOCK.match(v):
            raise ValueError(f'{v!r} is not a time of day like "05:30"')
        return v

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{v!r} is not an IANA time zone like America/Chicago") from None
        return v

    @field_validator("school_year_start")
    @classmethod
    def _month_day(cls, v: str | None) -> str | None:
        if v is not None and not MONTH_DAY.match(v):
            raise ValueError(f'{v!r} is not a day of the year like "07-01"')
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
