"""Which runs are syncs, and the one notification each sync run sends (finished, held or failed).

Sent by whoever sees the run end first: the ``passport sync`` process that executed it, or the
run-status sensors of a daemon watching the instance (which see runs of every origin: the UI,
schedules, sensors, backfills, materializations from the asset graph, ``passport sync``). A claim in
the golden store (``NotificationClaims``) makes it one notification per run, whoever sends it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import dagster as dg

from passport_pipelines.config.loader import IntegrationError
from passport_pipelines.config.secrets import integration_secrets
from passport_pipelines.jobs.run_summary import partition_of_run
from passport_pipelines.jobs.run_tags import APPROVED_VERSION_TAG, SCHOOL_YEAR_TAG, started_by
from passport_pipelines.notifications.message import FAILED, FINISHED, HELD, build_message, headline
from passport_pipelines.notifications.run_failure import error_of_failed_run
from passport_pipelines.resources.integrations import IntegrationsResource
from passport_pipelines.resources.notifier import NotifierResource
from passport_pipelines.store.golden_store import GoldenStore, Version
from passport_pipelines.store.notification_claims import NotificationClaims
from passport_pipelines.store.sync_holds import DecisionError, SyncHolds

SYNC_JOBS = frozenset({"roster_sync", "preview_sync", "commit_approved_sync"})


def is_sync_run(run: dg.DagsterRun) -> bool:
    """A run of a sync job, or any run whose first sync step stamped it (a backfill, a materialization
    from the asset graph)."""
    return run.job_name in SYNC_JOBS or SCHOOL_YEAR_TAG in run.tags


def version_of(store: GoldenStore, run: dg.DagsterRun, district: str, school_year: str) -> Version | None:
    """The version the run made (committed or held), or the approved one a commit run was about."""
    version = SyncHolds(store).for_run(run.run_id)
    approved = run.tags.get(APPROVED_VERSION_TAG, "")
    if version is None and approved.isdigit():
        try:
            version = SyncHolds(store).find(district, school_year, int(approved))
        except DecisionError:
            version = None
    return version


def notify_sync_run(instance: dg.DagsterInstance, run: dg.DagsterRun, store: GoldenStore,
                    integrations: IntegrationsResource, notifier: NotifierResource, *, sender: str,
                    logger: logging.Logger, failure_event: dg.DagsterEvent | None = None) -> str | None:
    """Send the ended sync run's notification unless someone already did; returns the event sent."""
    district, school_year = partition_of_run(run)
    if not district or not school_year:
        logger.warning(f"run {run.run_id} of {run.job_name} has no district|school_year partition: "
                       "no notification")
        return None
    try:
        integration = integrations.load(district)
    except (IntegrationError, OSError) as exc:
        # The file was removed or broken since the run started: nobody left to tell; the run is in the UI.
        logger.warning(f"{district}: integration file not loadable, no notification: {exc}")
        return None
    if not integration.notifications:
        return None
    version = version_of(store, run, district, school_year)
    # Made by this run and never committed: held (and maybe approved or rejected since).
    held = version is not None and version.run_id == run.run_id and version.committed_at is None
    error = None
    if run.status == dg.DagsterRunStatus.SUCCESS:
        event = HELD if held else FINISHED
    else:
        event = HELD if held else FAILED
        if event == FAILED:
            integration_secrets(integration)  # so that the error line cannot carry one of them
            error = error_of_failed_run(instance, run.run_id, failure_event)
    message = build_message(event, district=district, school_year=school_year, run_id=run.run_id,
                            job=run.job_name, started_by=started_by(run.tags),
                            at=_ended_at(instance, run.run_id), version=version, error=error)
    if not any(event in target.events for target in integration.notifications):
        logger.info(f"{headline(message)}: no notification asks for {event}")
        return None
    if not NotificationClaims(store).claim(run.run_id, event=event, district=district, school_year=school_year,
                                           by=sender):
        return None  # the other sender has it
    notifier.send(integration, message, logger=logger)
    return event


def _ended_at(instance: dg.DagsterInstance, run_id: str) -> datetime:
    record = instance.get_run_record_by_id(run_id)
    if record is not None and record.end_time:
        return datetime.fromtimestamp(record.end_time, tz=timezone.utc)
    return datetime.now(timezone.utc)
