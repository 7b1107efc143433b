"""Running the real roster_sync job in process against a test Dagster instance."""

from __future__ import annotations

import dagster as dg

from passport_pipelines.assets.golden_records import COMMITTED_BY_TAG
from passport_pipelines.cli.sync_command import summarize
from passport_pipelines.definitions import defs
from passport_pipelines.jobs import ROSTER_SYNC
from passport_pipelines.partitions import district_partitions, sync_partition_key


def run_sync(instance: dg.DagsterInstance, district: str, school_year: str = "2025-2026") -> dict:
    if not instance.has_dynamic_partition(district_partitions.name, district):
        instance.add_dynamic_partitions(district_partitions.name, [district])
    result = defs.resolve_job_def(ROSTER_SYNC).execute_in_process(
        instance=instance, partition_key=sync_partition_key(district, school_year),
        tags={COMMITTED_BY_TAG: "test"}, raise_on_error=False,
    )
    return summarize(result, district, school_year)
