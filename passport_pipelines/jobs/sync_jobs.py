"""Jobs a district data engineer launches: the full roster sync of one district × school year, as
a preview, and the commit of an approved held sync."""

from __future__ import annotations

import dagster as dg

from passport_pipelines.jobs.asset_groups import SYNC_GROUP
from passport_pipelines.jobs.run_tags import PREVIEW_TAG

ROSTER_SYNC = "roster_sync"
PREVIEW_SYNC = "preview_sync"
COMMIT_APPROVED_SYNC = "commit_approved_sync"
RETRY_DELIVERIES = "retry_deliveries"

# The group with every asset of a sync, and their checks.
_SYNC = dg.AssetSelection.groups(SYNC_GROUP)

roster_sync_job = dg.define_asset_job(
    ROSTER_SYNC, selection=_SYNC,
    description="Extract, validate, normalize, detect changes, commit and deliver one district's school year.",
)

preview_sync_job = dg.define_asset_job(
    PREVIEW_SYNC, selection=_SYNC, tags={PREVIEW_TAG: "true"},
    description="The roster sync, held before anything is committed. When it would change something, its "
                "change set waits as a held version for approve_sync or reject_sync (the run ends tagged "
                "passport/status=held). When it would change nothing, nothing is held, committed or delivered "
                "(tagged 'previewed, nothing to hold').",
)

commit_approved_sync_job = dg.define_asset_job(
    COMMIT_APPROVED_SYNC,
    selection=dg.AssetSelection.assets("golden_records").downstream(),
    description="Commit and deliver an approved held version (launched by the approval_sensor with the "
                "version number in the passport/approved_version tag).",
)

retry_deliveries_job = dg.define_asset_job(
    RETRY_DELIVERIES,
    selection=dg.AssetSelection.assets("oneroster_exports", "sis_writeback"),
    description="Deliver the latest committed version again to every destination that has not received it "
                "(after 'propagation failed'): destinations that have it are left alone; the SIS write-back "
                "retries the records PowerSchool refused or did not get.",
)
