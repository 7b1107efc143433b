"""Tell a district when its sync finished, was held or failed: run-status sensors over every sync run
of the instance, whatever started it, that send the integration's webhooks and e-mails."""

from __future__ import annotations

import dagster as dg

from passport_pipelines.jobs.sync_run_notices import is_sync_run, notify_sync_run
from passport_pipelines.resources.golden_store import GoldenStoreResource
from passport_pipelines.resources.integrations import IntegrationsResource
from passport_pipelines.resources.notifier import NotifierResource


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS, monitor_all_code_locations=True, name="notify_finished_syncs",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Sends `finished` (a version committed, or nothing to change) or `held` (the sync waits for "
                "approval) for every sync run that ended: roster_sync, preview_sync, commit_approved_sync, "
                "backfills and asset-graph materializations, and `passport sync` runs of this instance.")
def notify_finished_syncs(context: dg.RunStatusSensorContext, golden_store: GoldenStoreResource,
                          integrations: IntegrationsResource, notifier: NotifierResource) -> None:
    # Returning None (not a SkipReason) lets Dagster go on to the next finished run in the same tick:
    # a run-status sensor stops at the first run whose evaluation returns something.
    if is_sync_run(context.dagster_run):
        notify_sync_run(context.instance, context.dagster_run, golden_store.store(), integrations, notifier,
                        sender="sensor", logger=context.log)


@dg.run_failure_sensor(
    monitor_all_code_locations=True, name="notify_failed_syncs", default_status=dg.DefaultSensorStatus.RUNNING,
    description="Sends `failed` for every sync run that failed, with the step and the first line of its error "
                "(and the blocking checks that did not pass).")
def notify_failed_syncs(context: dg.RunFailureSensorContext, golden_store: GoldenStoreResource,
                        integrations: IntegrationsResource, notifier: NotifierResource) -> None:
    if is_sync_run(context.dagster_run):
        notify_sync_run(context.instance, context.dagster_run, golden_store.store(), integrations, notifier,
                        sender="sensor", logger=context.log, failure_event=context.failure_event)
