"""What every extract checks first: the district may sync this school year now."""

import dagster as dg

from passport_pipelines.config.integration import Integration


class SyncRefused(dg.Failure):
    """The district may not sync now (paused, or not this school year)."""


def refuse_unless_syncable(integration: Integration, school_year: str) -> None:
    district = integration.district
    if integration.state == "paused":
        raise SyncRefused(f"district {district} is paused; set state: active in its integration file to sync")
    if school_year not in integration.school_years:
        raise SyncRefused(f"{school_year} is not one of {district}'s school years "
                          f"({', '.join(integration.school_years)})")
