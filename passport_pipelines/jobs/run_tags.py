"""The ``passport/*`` run tags: who started a sync, why, and how it ended.

Every run that syncs carries the same tags, however it started (``passport sync``, the Launchpad, a
schedule, a sensor, a backfill, a materialization from the asset graph, an approval): the launcher
sets what it knows, and the ``integration_settings`` asset (the first step of a sync) or
``golden_records`` (the first step of an approved commit) adds the rest, so the Runs page can be
filtered by district, school year, trigger and outcome.
"""

from __future__ import annotations

from typing import Mapping

COMMITTED_BY_TAG = "passport/committed_by"  # who started it: cli:<user>, schedule:<name>, ...
DISTRICT_TAG = "passport/district"
SCHOOL_YEAR_TAG = "passport/school_year"
TRIGGER_TAG = "passport/trigger"  # cli | ui | schedule | year_start | first_day | drop | backfill | approval
STATUS_TAG = "passport/status"  # held | committed | unchanged | successfully in production | ...
VERSION_TAG = "passport/version"  # the version number the sync made, as `passport history` shows it
PREVIEW_TAG = "passport/preview"  # "true": hold whatever the sync changes, for approval
APPROVED_VERSION_TAG = "passport/approved_version"  # number of the approved held version to commit
NO_DELETIONS_TAG = "passport/no_deletions"  # "true": import without deletions
FORCE_TAG = "passport/force"  # "true": sync a paused district anyway (by hand only)
PID_TAG = "passport/pid"  # host:pid of a `passport sync` running the run in its own process

# Outcomes written to STATUS_TAG besides the version statuses.
HELD = "held"
UNCHANGED_PREVIEW = "previewed, nothing to hold"


def started_by(tags: Mapping[str, str]) -> str:
    """Who started the run, for the version's history: the person (CLI), the schedule, the sensor
    or the backfill; "dagster" for a run launched in the UI, which does not say who clicked."""
    if tags.get(COMMITTED_BY_TAG):
        return tags[COMMITTED_BY_TAG]
    if tags.get("dagster/schedule_name"):
        return f"schedule:{tags['dagster/schedule_name']}"
    if tags.get("dagster/sensor_name"):
        return f"sensor:{tags['dagster/sensor_name']}"
    if tags.get("dagster/backfill"):
        return f"backfill:{tags['dagster/backfill']}"
    return "dagster"


def trigger_of(tags: Mapping[str, str]) -> str:
    """Why the run started, when its launcher did not say."""
    if tags.get(TRIGGER_TAG):
        return tags[TRIGGER_TAG]
    if tags.get(APPROVED_VERSION_TAG):
        return "approval"
    if tags.get("dagster/backfill"):
        return "backfill"
    if tags.get("dagster/schedule_name"):
        return "schedule"
    if tags.get("dagster/sensor_name"):
        return "sensor"
    return "ui"


def _flag(tags: Mapping[str, str], tag: str) -> bool:
    return tags.get(tag, "").lower() in ("1", "true", "yes")


def is_preview(tags: Mapping[str, str]) -> bool:
    return _flag(tags, PREVIEW_TAG)


def skips_deletions(tags: Mapping[str, str]) -> bool:
    return _flag(tags, NO_DELETIONS_TAG)


def is_forced(tags: Mapping[str, str]) -> bool:
    return _flag(tags, FORCE_TAG)
