"""The Dagster code location of Passport Data Sync."""

from __future__ import annotations

import dagster as dg

from passport_pipelines.assets.api_extracts import api_extracts
from passport_pipelines.assets.duplicate_review_queue import duplicate_review_queue, review_queue_growth
from passport_pipelines.assets.golden_records import golden_records
from passport_pipelines.assets.integration_settings import integration_settings
from passport_pipelines.assets.normalized_rosters import normalized_rosters, normalized_rosters_checks
from passport_pipelines.assets.oneroster_exports import build_oneroster_exports
from passport_pipelines.assets.roster_changes import roster_changes
from passport_pipelines.assets.sis_writeback import sis_writeback
from passport_pipelines.assets.source_extracts import source_extracts
from passport_pipelines.jobs.ops.connection_checks import test_connection_job
from passport_pipelines.jobs.ops.duplicate_review import resolve_duplicate_job, undo_duplicate_decision_job
from passport_pipelines.jobs.ops.sync_approval import approve_sync_job, reject_sync_job
from passport_pipelines.jobs.scheduling.district_syncs import district_syncs
from passport_pipelines.jobs.sync_jobs import (
    commit_approved_sync_job,
    preview_sync_job,
    retry_deliveries_job,
    roster_sync_job,
)
from passport_pipelines.resources.golden_store import GoldenStoreResource
from passport_pipelines.resources.integrations import IntegrationsResource
from passport_pipelines.resources.notifier import NotifierResource
from passport_pipelines.resources.run_handoffs import RunHandoffIOManager
from passport_pipelines.sensors.abandoned_runs import abandoned_sync_runs
from passport_pipelines.sensors.approvals import approval_sensor
from passport_pipelines.sensors.integration_registry import integration_registry
from passport_pipelines.sensors.new_drops import new_drops
from passport_pipelines.sensors.notifications import notify_failed_syncs, notify_finished_syncs
from passport_pipelines.sources.registry import default_connectors


def destination_names(integrations: IntegrationsResource) -> list[str]:
    """The CSV destinations named in the integration files: each gets its own delivery asset."""
    found, _ = integrations.load_all()  # invalid files are reported by the integration_registry sensor
    return sorted({d.name for i in found.values() for d in i.csv_destinations})


def build_defs(destinations: list[str] | None = None) -> dg.Definitions:
    """The code location; ``destinations``: the destination assets (default: read from the files)."""
    integrations = IntegrationsResource()
    names = destination_names(integrations) if destinations is None else destinations
    return dg.Definitions(
        assets=[integration_settings, *api_extracts, source_extracts, normalized_rosters, roster_changes, golden_records,
                duplicate_review_queue, build_oneroster_exports(names), sis_writeback],
        # Checks that can be executed on their own; the others are computed by their asset (check_specs).
        asset_checks=[*normalized_rosters_checks, review_queue_growth],
        jobs=[roster_sync_job, preview_sync_job, commit_approved_sync_job, retry_deliveries_job, approve_sync_job,
              reject_sync_job, test_connection_job, resolve_duplicate_job, undo_duplicate_decision_job],
        schedules=[district_syncs],
        sensors=[integration_registry, approval_sensor, new_drops, notify_finished_syncs, notify_failed_syncs,
                 abandoned_sync_runs],
        resources={"golden_store": GoldenStoreResource(), "integrations": integrations,
                   "notifier": NotifierResource.from_environment(), "io_manager": RunHandoffIOManager(), **default_connectors()},
        # A sync is a chain of steps over one district's files: run them in the run's own process.
        # A process per step would import the code location again for each of them (a UI-launched
        # run took 140 s where `passport sync` took 12); DuckDB uses the cores inside each step.
        executor=dg.in_process_executor,
    )


defs = build_defs()
