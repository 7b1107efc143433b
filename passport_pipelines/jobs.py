"""Jobs a district data engineer launches: the full roster sync of one district × school year."""

from __future__ import annotations

import dagster as dg

ROSTER_SYNC = "roster_sync"

roster_sync_job = dg.define_asset_job(
    ROSTER_SYNC,
    selection=dg.AssetSelection.groups("roster_sync"),
    description="Extract, validate, normalize, detect changes, commit and deliver one district's school year.",
)
