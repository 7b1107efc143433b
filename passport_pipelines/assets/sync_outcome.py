"""How a sync run says where it stands: ``passport/status`` and ``passport/version`` tags on the run, and
what to paste to approve or reject a held sync."""

from __future__ import annotations

import dagster as dg

from passport_pipelines.jobs.run_liveness import this_process
from passport_pipelines.jobs.run_tags import (
    COMMITTED_BY_TAG,
    DISTRICT_TAG,
    PID_TAG,
    SCHOOL_YEAR_TAG,
    STATUS_TAG,
    TRIGGER_TAG,
    VERSION_TAG,
    started_by,
    trigger_of,
)


def stamp_sync_tags(context: dg.AssetExecutionContext, district: str, school_year: str) -> None:
    """The ``passport/*`` tags every sync run carries, added by its first step whatever launched it,
    and the process running it (so a killed run is recognised as abandoned)."""
    tags = context.run.tags
    context.instance.add_run_tags(context.run.run_id, {
        DISTRICT_TAG: district, SCHOOL_YEAR_TAG: school_year, TRIGGER_TAG: trigger_of(tags),
        COMMITTED_BY_TAG: started_by(tags), PID_TAG: this_process(),
    })


def tag_outcome(context: dg.AssetExecutionContext, status: str, *, version: int | None = None) -> None:
    """Tag the run with the sync's status so far (the Runs page shows and filters it); a later step
    overwrites it as the sync moves on (committed, then in production)."""
    tags = {STATUS_TAG: status}
    if version is not None:
        tags[VERSION_TAG] = str(version)
    context.instance.add_run_tags(context.run.run_id, tags)


def approval_instructions(district: str, school_year: str, number: int) -> dict:
    """Metadata of a held sync: the jobs to launch and their config, beside the CLI commands."""
    config = ("ops:\n  {op}:\n    config:\n"
              f"      district: {district}\n      school_year: \"{school_year}\"\n      version: {number}\n"
              "      by: you@example.org\n")
    return {
        "version": number,
        "approve_job": dg.MetadataValue.md(
            f"Launch **approve_sync** with this config (Launchpad), then the approval_sensor commits and "
            f"delivers version {number}:\n\n```yaml\n{config.format(op='approve_held_sync')}```"),
        "reject_job": dg.MetadataValue.md(
            f"Or launch **reject_sync** to discard it:\n\n```yaml\n{config.format(op='reject_held_sync')}```"),
        "approve": f"passport approve {district} {number} --school-year {school_year} --by EMAIL",
        "reject": f"passport reject {district} {number} --school-year {school_year} --by EMAIL",
    }
