"""Launches the commit-and-deliver run of every approved held sync, once per approval."""

import dagster as dg

from passport_pipelines.jobs.partitions import sync_partition_key
from passport_pipelines.jobs.run_tags import (
    APPROVED_VERSION_TAG,
    COMMITTED_BY_TAG,
    DISTRICT_TAG,
    SCHOOL_YEAR_TAG,
    TRIGGER_TAG,
)
from passport_pipelines.jobs.sync_jobs import COMMIT_APPROVED_SYNC
from passport_pipelines.resources.golden_store import GoldenStoreResource
from passport_pipelines.store.sync_holds import SyncHolds
from passport_pipelines.store.version_status import APPROVED


@dg.sensor(job_name=COMMIT_APPROVED_SYNC, minimum_interval_seconds=30,
           default_status=dg.DefaultSensorStatus.RUNNING)
def approval_sensor(context: dg.SensorEvaluationContext, golden_store: GoldenStoreResource):
    """Approved versions (passport approve, or the approve_sync job) wait here for their run. The run
    key is the version id, so an approval launches one run however often the sensor looks."""
    approved = SyncHolds(golden_store.store()).with_status(APPROVED)
    if not approved:
        return dg.SkipReason("no approved sync waits for its commit")
    return [dg.RunRequest(
        run_key=f"approved-version-{v.id}",
        partition_key=sync_partition_key(v.district, v.school_year),
        tags={APPROVED_VERSION_TAG: str(v.number), COMMITTED_BY_TAG: v.committed_by, DISTRICT_TAG: v.district,
              SCHOOL_YEAR_TAG: v.school_year, TRIGGER_TAG: "approval"},
    ) for v in approved]
