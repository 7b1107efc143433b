"""What every asset of a sync says about itself in the Dagster UI: its group (the ``roster_sync``
jobs select it), the team that owns it, and the stage of the sync it is (the ``stage`` tag, to
filter the asset catalog by)."""

from __future__ import annotations

SYNC_GROUP = "roster_sync"
OWNERS = ("team:district-data",)
STAGE_TAG = "stage"

# The stages of a sync, in the order a sync runs them.
SETTINGS = "settings"
EXTRACT = "extract"
NORMALIZE = "normalize"
CHANGES = "changes"
COMMIT = "commit"
REVIEW = "review"
DELIVERY = "delivery"
WRITEBACK = "writeback"
STAGES = (SETTINGS, EXTRACT, NORMALIZE, CHANGES, COMMIT, REVIEW, DELIVERY, WRITEBACK)


def sync_asset(stage: str) -> dict:
    """The group, owners and stage tag of an asset of the sync, for ``@dg.asset`` and ``dg.AssetOut``:
    ``@dg.asset(**sync_asset(EXTRACT), ...)``."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}: one of {', '.join(STAGES)}")
    return {"group_name": SYNC_GROUP, "owners": list(OWNERS), "tags": {STAGE_TAG: stage}}
