"""Tell a district when its sync finished, was held or failed: run-status sensors over the sync jobs
that send the integration's webhooks and e-mails (SPEC §8, §10)."""

from __future__ import annotations

from datetime import datetime, timezone

import dagster as dg
from sqlalchemy.exc import NoResultFound

from passport_pipelines.config.loader import IntegrationError
from passport_pipelines.config.secrets import integration_secrets
from passport_pipelines.jobs import commit_approved_sync_job, preview_sync_job, roster_sync_job
from passport_pipelines.notifications.message import FAILED, FINISHED, HELD, build_message, headline
from passport_pipelines.notifications.run_failure import error_of_failed_run
from passport_pipelines.partitions import DISTRICT, SCHOOL_YEAR
from passport_pipelines.resources.golden_store import GoldenStoreResource
from passport_pipelines.resources.integrations import IntegrationsResource
from passport_pipelines.resources.notifier import NotifierResource
from passport_pipelines.run_tags import APPROVED_VERSION_TAG, DISTRICT_TAG, started_by
from passport_pipelines.store.golden_store import Version
from passport_pipelines.store.sync_holds import SyncHolds
from passport_pipelines.store.version_status import HELD as HELD_STATUS

SYNC_JOBS = [roster_sync_job, preview_sync_job, commit_approved_sync_job]


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS, monitored_jobs=SYNC_JOBS, name="notify_finished_syncs",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Sends the `finished` notification of every successful roster_sync, preview_sync and "
                "commit_approved_sync run to the district's webhooks and e-mail addresses.")
def notify_finished_syncs(context: dg.RunStatusSensorContext, golden_store: GoldenStoreResource,
                          integrations: IntegrationsResource, notifier: NotifierResource) -> None:
    """`finished`: the sync committed a version (or found nothing to change); the body carries its
    number, status and change counts."""
    _notify(context, FINISHED, golden_store, integrations, notifier)


@dg.run_failure_sensor(
    monitored_jobs=SYNC_JOBS, name="notify_failed_syncs", default_status=dg.DefaultSensorStatus.RUNNING,
    description="Sends `held` (the sync_hold check held the change set for approval) or `failed` (anything "
                "else stopped the run) for every failed sync run to the district's webhooks and e-mail "
                "addresses.")
def notify_failed_syncs(context: dg.RunFailureSensorContext, golden_store: GoldenStoreResource,
                        integrations: IntegrationsResource, notifier: NotifierResource) -> None:
    """A held sync ends as a failed run (its blocking check failed) with a held version in the golden
    store: that is `held`, with the reasons. Every other failure is `failed`, with the step and the
    first line of its error."""
    _notify(context, None, golden_store, integrations, notifier)


def _notify(context: dg.RunStatusSensorContext, event: str | None, golden_store: GoldenStoreResource,
            integrations: IntegrationsResource, notifier: NotifierResource) -> None:
    # Returning None (not a SkipReason) lets Dagster go on to the next finished run in the same tick:
    # a run-status sensor stops at the first run whose evaluation returns something.
    run = context.dagster_run
    district, school_year = _partition(run.tags)
    if not district or not school_year:
        context.log.warning(f"run {run.run_id} of {run.job_name} has no district|school_year partition: "
                            "no notification")
        return
    try:
        integration = integrations.load(district)
    except (IntegrationError, OSError) as exc:
        # The file was removed or broken since the run started: nobody left to tell, and the run
        # itself is in the UI.
        context.log.warning(f"{district}: integration file not loadable, no notification: {exc}")
        return
    if not integration.notifications:
        return
    version = _version_of(golden_store, run)
    error = None
    if event is None:
        held = version is not None and version.status == HELD_STATUS
        event = HELD if held else FAILED
        if event == FAILED:
            failure = context.dagster_event if isinstance(context, dg.RunFailureSensorContext) else None
            integration_secrets(integration)  # so that the error line cannot carry one of them
            error = error_of_failed_run(context.instance, run.run_id, failure)
    message = build_message(event, district=district, school_year=school_year, run_id=run.run_id,
                            job=run.job_name, started_by=started_by(run.tags),
                            at=_ended_at(context.instance, run.run_id), version=version, error=error)
    if not any(event in target.events for target in integration.notifications):
        context.log.info(f"{headline(message)}: no notification asks for {event}")
        return
    notifier.send(integration, message, logger=context.log)


def _partition(tags) -> tuple[str | None, str | None]:
    district = tags.get(f"dagster/partition/{DISTRICT}") or tags.get(DISTRICT_TAG)
    return district, tags.get(f"dagster/partition/{SCHOOL_YEAR}")


def _version_of(golden_store: GoldenStoreResource, run: dg.DagsterRun) -> Version | None:
    """The version the run made: committed, held, or (commit_approved_sync) the approved one it
    committed. A run that stopped before the golden store has none."""
    store = golden_store.store()
    version = SyncHolds(store).for_run(run.run_id)
    approved = run.tags.get(APPROVED_VERSION_TAG)
    if version is None and approved and approved.isdigit():
        # A commit run that failed leaves the approved version's run id as it was: still say which
        # version it was about.
        try:
            version = store.version(int(approved))
        except NoResultFound:
            version = None
    return version


def _ended_at(instance: dg.DagsterInstance, run_id: str) -> datetime:
    record = instance.get_run_record_by_id(run_id)
    if record is not None and record.end_time:
        return datetime.fromtimestamp(record.end_time, tz=timezone.utc)
    return datetime.now(timezone.utc)
