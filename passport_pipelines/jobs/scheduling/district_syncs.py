"""One schedule over the district partitions: every few minutes it starts the syncs whose time,
by each district's own schedule and time zone, has come."""

from datetime import datetime, timedelta, timezone

import dagster as dg

from passport_pipelines.jobs.partitions import district_partitions, school_year_partitions, sync_partition_key
from passport_pipelines.jobs.run_tags import DISTRICT_TAG, SCHOOL_YEAR_TAG, TRIGGER_TAG
from passport_pipelines.jobs.scheduling.due_syncs import fleet_due_syncs
from passport_pipelines.jobs.scheduling.first_days import school_year_first_days
from passport_pipelines.jobs.sync_jobs import roster_sync_job
from passport_pipelines.resources.golden_store import GoldenStoreResource
from passport_pipelines.resources.integrations import IntegrationsResource

TICK_MINUTES = 5


def _first_days(context: dg.ScheduleEvaluationContext, golden_store: GoldenStoreResource,
                districts: list[str]) -> dict:
    """The school years' first days on record; none (with a warning) when the store cannot be read,
    so that the regular syncs of the tick still start."""
    if not districts:
        return {}
    try:
        return school_year_first_days(golden_store.store(), districts)
    except Exception as exc:  # noqa: BLE001 -- a store outage must not stop the fleet's regular syncs
        context.log.warning(f"no first-day-of-school syncs this tick: the golden store cannot be read "
                            f"({type(exc).__name__})")
        return {}


@dg.schedule(job=roster_sync_job, cron_schedule=f"*/{TICK_MINUTES} * * * *",
             default_status=dg.DefaultScheduleStatus.RUNNING)
def district_syncs(context: dg.ScheduleEvaluationContext, integrations: IntegrationsResource,
                   golden_store: GoldenStoreResource):
    """Each district syncs by the `schedule:` of its integration file (hourly, daily or weekly, at its
    time of day in its time zone, until its expiry date), its new school year on `school_year_start`,
    and at 12:00 am on each school year's first day as its SIS calendar gives it (trigger
    `first_day`). Paused districts are skipped."""
    now = context.scheduled_execution_time or datetime.now(timezone.utc)
    found, errors = integrations.load_all()
    for error in errors:
        context.log.warning(error)
    registered = set(context.instance.get_dynamic_partitions(district_partitions.name))
    years = set(context.instance.get_dynamic_partitions(school_year_partitions.name))
    districts = [i for i in found.values() if i.district in registered]
    first_days = _first_days(context, golden_store, [i.district for i in districts if i.schedule.first_day_sync])
    fleet, skipped = fleet_due_syncs(districts, now, timedelta(minutes=TICK_MINUTES), first_days)
    for warning in skipped:
        context.log.warning(warning)
    # Districts and years not registered yet (a new file) are registered by the integration_registry
    # sensor within a minute, and synced from the next tick on.
    requests = [
        dg.RunRequest(run_key=due.run_key, partition_key=sync_partition_key(due.district, due.school_year),
                      tags={DISTRICT_TAG: due.district, SCHOOL_YEAR_TAG: due.school_year, TRIGGER_TAG: due.trigger})
        for due in fleet if due.school_year in years
    ]
    return requests or dg.SkipReason(f"no district is due at {now:%Y-%m-%d %H:%M %Z}")
