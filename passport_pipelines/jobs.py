"""Jobs a district data engineer launches: the full roster sync of one district × school year."""

from __future__ import annotations

import dagster as dg

from passport_pipelines.partitions import sync_partitions

ROSTER_SYNC = "roster_sync"

roster_sync_job = dg.define_asset_job(
    ROSTER_SYNC,
    selection=dg.AssetSelection.groups("roster_sync"),
    partitions_def=sync_partitions,
    description="Extract, validate, normalize, detect changes, commit and deliver one district's school year.",
)
