"""Syncs as the Dagster UI shows them: held runs read as held, checks per partition, the passport/* tags on
every sync run, previews that change nothing, and one notification per run whoever sends it."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from passport_pipelines.cli.main import cli
from passport_pipelines.definitions import defs
from passport_pipelines.jobs.partitions import register_sync_partition, sync_partition_key
from passport_pipelines.jobs.run_tags import (
    APPROVED_VERSION_TAG,
    COMMITTED_BY_TAG,
    DISTRICT_TAG,
    PID_TAG,
    SCHOOL_YEAR_TAG,
    STATUS_TAG,
    TRIGGER_TAG,
    VERSION_TAG,
)
from passport_pipelines.jobs.sync_jobs import PREVIEW_SYNC
from passport_pipelines.resources.golden_store import GoldenStoreResource
from passport_pipelines.resources.integrations import IntegrationsResource
from passport_pipelines.resources.notifier import NotifierResource
from passport_pipelines.sensors.notifications import notify_finished_syncs
from passport_pipelines.store.golden_store import GoldenStore
from tests.conftest import write_integration
from tests.district_files import edit_rows, make_district, read_rows
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.sync_harness import approve_held, execute, run_sync

pytestmark = pytest.mark.slow

YEAR = "2025-2026"
SYNC_HOLD = dg.AssetCheckKey(dg.AssetKey("roster_changes"), "sync_hold")


@pytest.fixture
def webhook():
    receiver = WebhookReceiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def _district(tmp_path: Path, name: str, **extra) -> Path:
    drop = make_district(tmp_path / f"drop-{name}", students=40)
    write_integration(tmp_path / "integrations", name, [
        {"name": "sis", "type": "csv", "path": str(drop), "schema": "oneroster-1.1", "mode": "full"}], **extra)
    return drop


def _drop_most_students(drop: Path) -> None:
    students = [u["sourcedId"] for u in read_rows(drop / "users.csv")[1] if u["role"] == "student"]
    gone = set(students[: int(len(students) * 0.6)])
    edit_rows(drop / "users.csv", lambda rows: [r for r in rows if r["sourcedId"] not in gone])
    edit_rows(drop / "demographics.csv", lambda rows: [r for r in rows if r["sourcedId"] not in gone])
    edit_rows(drop / "enrollments.csv", lambda rows: [r for r in rows if r["userSourcedId"] not in gone])


def _evaluation(instance: dg.DagsterInstance, run_id: str, check: str):
    records = instance.get_records_for_run(run_id=run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    [evaluation] = [r.event_log_entry.dagster_event.event_specific_data for r in records
                    if r.event_log_entry.dagster_event.event_specific_data.check_name == check]
    return evaluation


def test_a_held_sync_ends_held_not_failed_and_says_how_to_approve_it(tmp_path, passport_home, sqlite_store):
    drop = _district(tmp_path, "lakeside")
    with dg.instance_for_test() as instance:
        assert run_sync(instance, "lakeside")["status"] == "successfully in production"
        _drop_most_students(drop)
        held = run_sync(instance, "lakeside")
        run = instance.get_run_by_id(held["run_id"])
        # Not a crash: the run succeeded, what could run ran, and it says held, with the version's number.
        assert held["status"] == "held" and held["version"] == 2
        assert run.status == dg.DagsterRunStatus.SUCCESS
        assert run.tags[STATUS_TAG] == "held" and run.tags[VERSION_TAG] == "2"
        evaluation = _evaluation(instance, held["run_id"], "sync_hold")
        assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
        meta = {k: v.value for k, v in evaluation.metadata.items()}
        assert meta["version"] == 2
        # The jobs to launch from the UI, with the config to paste, beside the CLI commands.
        assert "approve_sync" in meta["approve_job"] and "version: 2" in meta["approve_job"]
        assert "approve_held_sync" in meta["approve_job"] and 'school_year: "2025-2026"' in meta["approve_job"]
        assert "reject_sync" in meta["reject_job"] and "reject_held_sync" in meta["reject_job"]
        assert meta["approve"] == "passport approve lakeside 2 --school-year 2025-2026 --by EMAIL"
        # Nothing after the hold materialized: the store is as it was.
        materialized = {r.event_log_entry.asset_materialization.asset_key.to_user_string() for r in
                        instance.get_records_for_run(run_id=held["run_id"],
                                                     of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records}
        assert "roster_changes" in materialized and "golden_records" not in materialized
        assert GoldenStore(sqlite_store).latest_version("lakeside", YEAR).number == 1

        # The same number everywhere: history, the approval's run tags, the committed version.
        out = CliRunner().invoke(cli, ["history", "lakeside", "--json"])
        assert [v["status"] for v in json.loads(out.output)["versions"] if v["version"] == 2] == ["held"]
        committed = approve_held(instance, "lakeside", 2)
        commit_run = instance.get_run_by_id(committed["run_id"])
        assert committed["status"] == "successfully in production" and committed["version"] == 2
        assert commit_run.tags[APPROVED_VERSION_TAG] == "2" and commit_run.tags[VERSION_TAG] == "2"
        assert commit_run.tags[STATUS_TAG] == "successfully in production"
        assert commit_run.tags[TRIGGER_TAG] == "approval"


def test_check_results_are_recorded_on_each_partition(tmp_path, passport_home, sqlite_store):
    lakeside = _district(tmp_path, "lakeside")
    _district(tmp_path, "hillcrest")
    with dg.instance_for_test() as instance:
        run_sync(instance, "lakeside")
        _drop_most_students(lakeside)
        assert run_sync(instance, "lakeside")["status"] == "held"
        # The next district's passing check does not hide lakeside's hold.
        assert run_sync(instance, "hillcrest")["status"] == "successfully in production"
        infos = {i.partition_key: i.latest_execution_status.value
                 for i in instance.event_log_storage.get_asset_check_partition_info([SYNC_HOLD])}
        assert infos == {sync_partition_key("lakeside", YEAR): "FAILED",
                         sync_partition_key("hillcrest", YEAR): "SUCCEEDED"}
        # Every check of a sync run is recorded on that run's partition.
        for name, district in (("lakeside", "lakeside"), ("hillcrest", "hillcrest")):
            run = instance.get_runs(dg.RunsFilter(tags={DISTRICT_TAG: district}), limit=1)[0]
            records = instance.get_records_for_run(run_id=run.run_id,
                                                   of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
            partitions = {r.event_log_entry.dagster_event.event_specific_data.partition for r in records}
            assert partitions == {sync_partition_key(district, YEAR)}, name


def test_a_materialization_from_the_asset_graph_carries_the_sync_tags(tmp_path, passport_home, sqlite_store):
    _district(tmp_path, "lakeside")
    with dg.instance_for_test() as instance:
        register_sync_partition(instance, "lakeside", YEAR)
        # "Materialize all" in the asset graph: the implicit asset job, launched with no passport/* tags.
        job = defs.resolve_implicit_global_asset_job_def()
        result = job.execute_in_process(instance=instance, partition_key=sync_partition_key("lakeside", YEAR),
                                        raise_on_error=False)
        assert result.success
        tags = instance.get_run_by_id(result.run_id).tags
    assert (tags[DISTRICT_TAG], tags[SCHOOL_YEAR_TAG], tags[TRIGGER_TAG], tags[COMMITTED_BY_TAG]) == (
        "lakeside", YEAR, "ui", "dagster")
    assert tags[STATUS_TAG] == "successfully in production" and tags[VERSION_TAG] == "1"
    assert tags[PID_TAG].count(":") == 2


def test_a_preview_that_would_change_nothing_holds_commits_and_delivers_nothing(tmp_path, passport_home,
                                                                               sqlite_store):
    _district(tmp_path, "lakeside")
    store = GoldenStore(sqlite_store)
    with dg.instance_for_test() as instance:
        first = run_sync(instance, "lakeside")
        deliveries = store.deliveries(store.latest_version("lakeside", YEAR).id)
        preview = execute(instance, PREVIEW_SYNC, "lakeside")
        assert preview.success
        assert instance.get_run_by_id(preview.run_id).tags[STATUS_TAG] == "previewed, nothing to hold"
    assert [v.number for v in store.versions("lakeside", YEAR)] == [first["version"]]
    assert store.deliveries(store.latest_version("lakeside", YEAR).id) == deliveries
    assert "nothing is held, committed or delivered" in defs.resolve_job_def(PREVIEW_SYNC).description
    # The same from the CLI: exit 0, and it says so.
    out = CliRunner().invoke(cli, ["sync", "lakeside", "--preview"])
    assert out.exit_code == 0, out.output
    assert "lakeside 2025-2026: previewed: nothing to change" in out.output


def test_a_passport_sync_sends_its_notification_once_even_when_a_daemon_sees_it_too(
        tmp_path, passport_home, sqlite_store, webhook):
    _district(tmp_path, "lakeside", notifications=[{"type": "webhook", "url": webhook.url()}])
    out = CliRunner().invoke(cli, ["sync", "lakeside"])
    assert out.exit_code == 0, out.output
    [body] = webhook.json_bodies()
    assert (body["event"], body["version"], body["job"]) == ("finished", 1, "roster_sync")
    assert body["started_by"].startswith("cli:")
    # A daemon's run-status sensor watching the same instance sees the same run end: nothing more is sent.
    with dg.DagsterInstance.get() as instance:
        run = instance.get_run_by_id(body["run_id"])
        [success] = instance.get_records_for_run(run_id=run.run_id, of_type=dg.DagsterEventType.RUN_SUCCESS).records
        resources = {"golden_store": GoldenStoreResource(), "integrations": IntegrationsResource(),
                     "notifier": NotifierResource()}
        with dg.build_run_status_sensor_context(
                sensor_name=notify_finished_syncs.name, dagster_instance=instance, dagster_run=run,
                dagster_event=success.event_log_entry.dagster_event, resources=resources) as ctx:
            notify_finished_syncs(ctx)
    assert len(webhook.requests) == 1
