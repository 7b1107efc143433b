"""What every extract checks first: the district may sync this school year now."""

from datetime import datetime, timezone
from typing import Mapping

import dagster as dg

from passport_pipelines.config.integration import Integration
from passport_pipelines.run_tags import is_forced


class SyncRefused(dg.Failure):
    """The district may not sync now (paused, or not this school year)."""


def refuse_unless_syncable(integration: Integration, school_year: str, tags: Mapping[str, str]) -> None:
    """A paused district (``state: paused``, or today within its ``pause`` range) syncs only when the
    run is forced (``passport sync --force``); schedules and sensors never start one."""
    district = integration.district
    today = datetime.now(timezone.utc).astimezone(integration.schedule.zone).date()
    if integration.paused_on(today) and not is_forced(tags):
        why = "state: paused" if integration.state == "paused" else \
            f"pause from {integration.pause.from_} until {integration.pause.until}"
        raise SyncRefused(f"district {district} is paused ({why}); sync it anyway with passport sync --force "
                          "(or the tag passport/force=true)")
    if school_year not in integration.school_years:
        raise SyncRefused(f"{school_year} is not one of {district}'s school years "
                          f"({', '.join(integration.school_years)})")
