"""What a sync checks before it reads anything: the district may sync this school year now."""

from datetime import datetime, timezone
from typing import Mapping

import dagster as dg

from passport_pipelines.config.integration import Integration
from passport_pipelines.jobs.run_tags import is_forced


class SyncRefused(dg.Failure):
    """The district may not sync now (paused, or not this school year)."""


def refuse_unless_syncable(integration: Integration, school_year: str, tags: Mapping[str, str]) -> None:
    """A paused district (``state: paused``, or today within its ``pause`` range) syncs only when the
    run is forced (``passport sync --force``); schedules and sensors never start one."""
    today = datetime.now(timezone.utc).astimezone(integration.schedule.zone).date()
    if integration.paused_on(today) and not is_forced(tags):
        raise SyncRefused(pause_refusal(integration))
    if school_year not in integration.school_years:
        raise SyncRefused(school_year_refusal(integration, school_year))


def pause_refusal(integration: Integration) -> str:
    why = "state: paused" if integration.state == "paused" else \
        f"pause from {integration.pause.from_} until {integration.pause.until}"
    return (f"district {integration.district} is paused ({why}): nothing was synced; sync it anyway with "
            "passport sync --force (or the tag passport/force=true)")


def school_year_refusal(integration: Integration, school_year: str) -> str:
    """Why the district does not sync ``school_year``, with the line that makes it sync it."""
    where = integration.file or f"the integration file of {integration.district}"
    years = sorted({*integration.school_years, school_year})
    return (f"{integration.district} does not sync {school_year}: its school_years are "
            f"{', '.join(integration.school_years)}. To sync it (e.g. to backfill a prior year), list it in {where}:\n"
            f"  school_years: [{', '.join(years)}]\n"
            "and point each source at that year's data (a {school_year} placeholder in its path; "
            "see docs/operations.md, per-year sources). Nothing was read or changed.")
