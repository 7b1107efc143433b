"""Starts a district's sync when a new CSV drop lands in one of its folder or SFTP sources, once per drop."""

import hashlib
import time
from datetime import datetime, timezone

import dagster as dg

from passport_pipelines.config.sources import CsvFolderSource, SftpSource
from passport_pipelines.jobs.partitions import district_partitions, school_year_partitions, sync_partition_key
from passport_pipelines.jobs.run_tags import DISTRICT_TAG, SCHOOL_YEAR_TAG, TRIGGER_TAG
from passport_pipelines.jobs.scheduling.drop_signatures import drop_signature
from passport_pipelines.jobs.scheduling.due_times import current_school_year
from passport_pipelines.jobs.sync_jobs import roster_sync_job
from passport_pipelines.resources.integrations import IntegrationsResource
from passport_pipelines.sources.drops.errors import DropFetchError


@dg.sensor(job=roster_sync_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def new_drops(context: dg.SensorEvaluationContext, integrations: IntegrationsResource):
    """For districts with `schedule: {on_new_drop: true}`: the files of every CSV folder, zip and SFTP
    source are listed (names, sizes, modification times); when they differ from every drop seen
    before and have settled for a minute, one sync starts. The run key is the drops' signature, so
    each drop is synced once. Paused or expired districts are skipped."""
    now = datetime.now(timezone.utc)
    found, errors = integrations.load_all()
    for error in errors:
        context.log.warning(error)
    registered = set(context.instance.get_dynamic_partitions(district_partitions.name))
    years = set(context.instance.get_dynamic_partitions(school_year_partitions.name))
    requests, waiting = [], []
    for integration in found.values():
        schedule = integration.schedule
        if (not schedule.on_new_drop or integration.district not in registered
                or integration.paused_on(now.astimezone(schedule.zone).date()) or schedule.expired(now)):
            continue
        drops = [s for s in integration.sources if isinstance(s, (CsvFolderSource, SftpSource))]
        year = current_school_year(integration.school_years, schedule, now)
        try:
            signatures = [drop_signature(integration, s, year) for s in drops]
        except DropFetchError as exc:
            context.log.warning(f"{integration.district}: {exc}")
            continue
        if not signatures or not all(s.files for s in signatures):
            continue
        if not all(s.settled(time.time()) for s in signatures):
            waiting.append(integration.district)
            continue
        if year not in years:
            continue  # registered by the integration_registry sensor within a minute
        digest = hashlib.sha256("|".join(f"{s.source}={s.digest}" for s in signatures).encode()).hexdigest()[:32]
        requests.append(dg.RunRequest(
            run_key=f"drop|{integration.district}|{year}|{digest}",
            partition_key=sync_partition_key(integration.district, year),
            tags={DISTRICT_TAG: integration.district, SCHOOL_YEAR_TAG: year, TRIGGER_TAG: "drop"}))
    if requests:
        return requests
    return dg.SkipReason("no new drop" + (f"; still landing: {', '.join(waiting)}" if waiting else ""))
