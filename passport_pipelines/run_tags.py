"""The run tags a sync reads: who started it, and whether it is a preview or an approved commit."""

from __future__ import annotations

from typing import Mapping

COMMITTED_BY_TAG = "passport/committed_by"
DISTRICT_TAG = "passport/district"
PREVIEW_TAG = "passport/preview"  # "true": hold whatever the sync changes, for approval
APPROVED_VERSION_TAG = "passport/approved_version"  # the id of the approved held version to commit
NO_DELETIONS_TAG = "passport/no_deletions"  # "true": import without deletions
FORCE_TAG = "passport/force"  # "true": sync a paused district anyway (by hand only)
TRIGGER_TAG = "passport/trigger"  # schedule | year_start | drop: why an unattended run started


def started_by(tags: Mapping[str, str]) -> str:
    """Who started the run, for the version's history: the person (CLI), the schedule or the
    sensor; "dagster" for a run launched in the UI, which does not say who clicked."""
    if tags.get(COMMITTED_BY_TAG):
        return tags[COMMITTED_BY_TAG]
    if tags.get("dagster/schedule_name"):
        return f"schedule:{tags['dagster/schedule_name']}"
    if tags.get("dagster/sensor_name"):
        return f"sensor:{tags['dagster/sensor_name']}"
    return "dagster"


def _flag(tags: Mapping[str, str], tag: str) -> bool:
    return tags.get(tag, "").lower() in ("1", "true", "yes")


def is_preview(tags: Mapping[str, str]) -> bool:
    return _flag(tags, PREVIEW_TAG)


def skips_deletions(tags: Mapping[str, str]) -> bool:
    return _flag(tags, NO_DELETIONS_TAG)


def is_forced(tags: Mapping[str, str]) -> bool:
    return _flag(tags, FORCE_TAG)
