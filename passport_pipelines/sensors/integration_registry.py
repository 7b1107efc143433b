"""Registers every district that has an integration file as a partition, and every school year some
district syncs; retires the partitions of deleted files, but never while a run of that district is
queued or in flight. School years are never retired: their materializations stay browsable."""


import dagster as dg

from passport_pipelines.jobs.partitions import DISTRICT, district_partitions, school_year_partitions
from passport_pipelines.resources.integrations import IntegrationsResource

IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING,
]


def district_in_flight(instance: dg.DagsterInstance, district: str) -> bool:
    runs = instance.get_run_records(
        filters=dg.RunsFilter(statuses=IN_FLIGHT, tags={f"dagster/partition/{DISTRICT}": district}), limit=1)
    return bool(runs)


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def integration_registry(context: dg.SensorEvaluationContext, integrations: IntegrationsResource):
    """Keeps the district and school-year partitions in step with the integration files."""
    found, errors = integrations.load_all()
    existing = set(context.instance.get_dynamic_partitions(district_partitions.name))
    to_add = sorted(set(found) - existing)
    years = {y for integration in found.values() for y in integration.school_years}
    new_years = sorted(years - set(context.instance.get_dynamic_partitions(school_year_partitions.name)))
    removable = sorted(d for d in existing - set(found) if not district_in_flight(context.instance, d))
    for error in errors:
        context.log.warning(error)
    requests = []
    if new_years:
        requests.append(school_year_partitions.build_add_request(new_years))
    if to_add:
        requests.append(district_partitions.build_add_request(to_add))
    if removable:
        requests.append(district_partitions.build_delete_request(removable))
    if not requests:
        why = "districts up to date"
        if errors:
            why += f"; {len(errors)} integration file(s) invalid (see the sensor log)"
        return dg.SkipReason(why)
    return dg.SensorResult(dynamic_partitions_requests=requests)
