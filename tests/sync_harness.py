"""Running the real sync jobs in process against a test Dagster instance."""

from __future__ import annotations

import dagster as dg

from passport_pipelines import settings
from passport_pipelines.cli.sync_command import summarize
from passport_pipelines.definitions import defs
from passport_pipelines.jobs import COMMIT_APPROVED_SYNC, ROSTER_SYNC
from passport_pipelines.partitions import district_partitions, sync_partition_key
from passport_pipelines.run_tags import APPROVED_VERSION_TAG, COMMITTED_BY_TAG
from passport_pipelines.store.golden_store import GoldenStore
from passport_pipelines.store.sync_holds import SyncHolds


def run_sync(instance: dg.DagsterInstance, district: str, school_year: str = "2025-2026") -> dict:
    if not instance.has_dynamic_partition(district_partitions.name, district):
        instance.add_dynamic_partitions(district_partitions.name, [district])
    result = defs.resolve_job_def(ROSTER_SYNC).execute_in_process(
        instance=instance, partition_key=sync_partition_key(district, school_year),
        tags={COMMITTED_BY_TAG: "test"}, raise_on_error=False,
    )
    return summarize(result, district, school_year)


def approve_held(instance: dg.DagsterInstance, district: str, number: int, school_year: str = "2025-2026",
                 by: str = "registrar@example.org") -> dict:
    """Approve a held version and run its commit as the approval sensor would launch it."""
    version = SyncHolds(GoldenStore(settings.database_url())).decide(district, school_year, number, approve=True,
                                                                     by=by)
    result = defs.resolve_job_def(COMMIT_APPROVED_SYNC).execute_in_process(
        instance=instance, partition_key=sync_partition_key(district, school_year),
        tags={APPROVED_VERSION_TAG: str(version.id), COMMITTED_BY_TAG: version.committed_by}, raise_on_error=False,
    )
    return summarize(result, district, school_year)
