"""Running the real sync jobs in process against a test Dagster instance."""

from __future__ import annotations

import dagster as dg

from passport_pipelines import settings
from passport_pipelines.definitions import defs
from passport_pipelines.jobs.partitions import register_sync_partition, sync_partition_key
from passport_pipelines.jobs.run_summary import summarize_run
from passport_pipelines.jobs.run_tags import APPROVED_VERSION_TAG, COMMITTED_BY_TAG
from passport_pipelines.jobs.sync_jobs import COMMIT_APPROVED_SYNC, ROSTER_SYNC
from passport_pipelines.store.golden_store import GoldenStore
from passport_pipelines.store.sync_holds import SyncHolds


def execute(instance: dg.DagsterInstance, job: str, district: str, school_year: str = "2025-2026",
            tags: dict | None = None) -> dg.ExecuteInProcessResult:
    """One run of ``job`` for the partition, in this process, as `passport sync` runs it without a daemon."""
    register_sync_partition(instance, district, school_year)
    return defs.resolve_job_def(job).execute_in_process(
        instance=instance, partition_key=sync_partition_key(district, school_year),
        tags={COMMITTED_BY_TAG: "test", **(tags or {})}, raise_on_error=False)


def summary_of(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult) -> dict:
    return summarize_run(instance, result.run_id, GoldenStore(settings.database_url()))


def run_sync(instance: dg.DagsterInstance, district: str, school_year: str = "2025-2026") -> dict:
    return summary_of(instance, execute(instance, ROSTER_SYNC, district, school_year))


def approve_held(instance: dg.DagsterInstance, district: str, number: int, school_year: str = "2025-2026",
                 by: str = "registrar@example.org") -> dict:
    """Approve a held version and run its commit as the approval sensor would launch it."""
    version = SyncHolds(GoldenStore(settings.database_url())).decide(district, school_year, number, approve=True,
                                                                     by=by)
    result = execute(instance, COMMIT_APPROVED_SYNC, district, school_year,
                     tags={APPROVED_VERSION_TAG: str(version.number), COMMITTED_BY_TAG: version.committed_by})
    return summary_of(instance, result)
