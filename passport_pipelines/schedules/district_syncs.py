"""One schedule over the district partitions: every few minutes it starts the syncs whose time,
by each district's own schedule and time zone, has come."""

from datetime import datetime, timedelta, timezone

import dagster as dg

from passport_pipelines.jobs import roster_sync_job
from passport_pipelines.partitions import (
    district_partitions,
    school_year_partitions,
    sync_partition_key,
)
from passport_pipelines.resources.integrations import IntegrationsResource
from passport_pipelines.run_tags import DISTRICT_TAG, SCHOOL_YEAR_TAG, TRIGGER_TAG
from passport_pipelines.scheduling.due_syncs import fleet_due_syncs

TICK_MINUTES = 5


@dg.schedule(job=roster_sync_job, cron_schedule=f"*/{TICK_MINUTES} * * * *",
             default_status=dg.DefaultScheduleStatus.RUNNING)
def district_syncs(context: dg.ScheduleEvaluationContext, integrations: IntegrationsResource):
    """Each district syncs by the `schedule:` of its integration file (hourly, daily or weekly, at its
    time of day in its time zone, until its expiry date), and its new school year on its first day.
    Paused districts are skipped."""
    now = context.scheduled_execution_time or datetime.now(timezone.utc)
    found, errors = integrations.load_all()
    for error in errors:
        context.log.warning(error)
    registered = set(context.instance.get_dynamic_partitions(district_partitions.name))
    years = set(context.instance.get_dynamic_partitions(school_year_partitions.name))
    fleet, skipped = fleet_due_syncs([i for i in found.values() if i.district in registered], now,
                                     timedelta(minutes=TICK_MINUTES))
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
