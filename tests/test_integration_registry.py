"""The integration registry sensor keeps district partitions in step with integration files."""

from __future__ import annotations

import uuid

import dagster as dg

from passport_pipelines.jobs.partitions import district_partitions, school_year_partitions
from passport_pipelines.resources.integrations import IntegrationsResource
from passport_pipelines.sensors.integration_registry import integration_registry
from tests.conftest import write_integration

CSV = [{"name": "sis", "type": "csv", "path": "drops"}]


def _evaluate(instance, folder):
    context = dg.build_sensor_context(instance=instance, resources={"integrations": IntegrationsResource(directory=str(folder))})
    return integration_registry(context)


def _requests(result, dimension: str = "district") -> tuple[set[str], set[str]]:
    added, deleted = set(), set()
    for request in getattr(result, "dynamic_partitions_requests", None) or []:
        if request.partitions_def_name != dimension:
            continue
        target = added if isinstance(request, dg.AddDynamicPartitionsRequest) else deleted
        target.update(request.partition_keys)
    return added, deleted


def test_registers_new_districts_and_reports_invalid_files(tmp_path):
    write_integration(tmp_path, "lakeside", CSV)
    write_integration(tmp_path, "hillcrest", CSV)
    (tmp_path / "broken.yaml").write_text("district: broken\n")
    with dg.instance_for_test() as instance:
        result = _evaluate(instance, tmp_path)
        assert _requests(result) == ({"lakeside", "hillcrest"}, set())
        # The school years the files list, so the partition picker offers those and no others.
        assert _requests(result, "school_year") == ({"2025-2026"}, set())
        instance.add_dynamic_partitions(district_partitions.name, ["lakeside", "hillcrest"])
        instance.add_dynamic_partitions(school_year_partitions.name, ["2025-2026"])
        again = _evaluate(instance, tmp_path)
        assert isinstance(again, dg.SkipReason) and "1 integration file(s) invalid" in again.skip_message


def test_removes_a_deleted_district_only_when_no_run_is_in_flight(tmp_path):
    write_integration(tmp_path, "lakeside", CSV)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(district_partitions.name, ["lakeside", "gone"])
        instance.add_dynamic_partitions(school_year_partitions.name, ["2025-2026"])
        run = dg.DagsterRun(job_name="roster_sync", run_id=str(uuid.uuid4()), status=dg.DagsterRunStatus.STARTED,
                            tags={"dagster/partition/district": "gone"})
        instance.add_run(run)
        assert _requests(_evaluate(instance, tmp_path)) == (set(), set())
        instance.report_run_failed(run)
        assert _requests(_evaluate(instance, tmp_path)) == (set(), {"gone"})
