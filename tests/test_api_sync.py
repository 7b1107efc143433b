"""Whole syncs from API sources through the Dagster job: an SIS API next to Google Workspace,
a failed extract that leaves the golden store as it was, and the Test Connection job."""

from __future__ import annotations

import dagster as dg
import pytest

from passport_pipelines.definitions import defs
from passport_pipelines.jobs.ops.connection_checks import TEST_CONNECTION
from passport_pipelines.sources.base import SourceConnector
from passport_pipelines.sources.http.transport import RetryPolicy
from passport_pipelines.store.golden_store import GoldenStore
from tests.conftest import write_integration
from tests.fakes.district_data import make_district_data
from tests.fakes.google_directory_server import google_source_config, start_google_fake
from tests.fakes.powerschool_server import powerschool_source_config, start_powerschool_fake
from tests.sync_harness import run_sync

pytestmark = pytest.mark.slow


@pytest.fixture
def district_data(tmp_path):
    return make_district_data(tmp_path / "drop", students=40)


def _sources(monkeypatch, *configs):
    sources = []
    for config, env in configs:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        sources.append(config)
    return sources


def _impatient(self) -> RetryPolicy:
    return RetryPolicy(max_attempts=2, base_delay=0.01)


def _event_text(instance, run_id: str) -> str:
    return "\n".join(str(e) for e in instance.all_logs(run_id))


def test_powerschool_and_google_sync_side_by_side(district_data, passport_home, tmp_path, monkeypatch, store_url):
    with start_powerschool_fake(district_data) as ps, start_google_fake(district_data) as google:
        ps_config, ps_env = powerschool_source_config(ps)
        google_config, google_env = google_source_config(google)
        write_integration(tmp_path / "integrations", "lakeside",
                          _sources(monkeypatch, (ps_config, ps_env), (google_config, google_env)))
        with dg.instance_for_test() as instance:
            summary = run_sync(instance, "lakeside")
            assert summary["status"] == "successfully in production", summary["errors"]
            ps_event = instance.get_latest_materialization_event(dg.AssetKey("powerschool_extracts"))
            meta = ps_event.asset_materialization.metadata
            assert meta["records"].value > 0 and meta["requests"].value > 0
            text = _event_text(instance, summary["run_id"])
            for secret in (*ps_env.values(), google.key["private_key"].splitlines()[1]):
                assert secret not in text  # no secret in logs or run metadata

    store = GoldenStore(store_url)
    try:
        users = store.current_records("lakeside", "2025-2026", "users").to_pylist()
        by_source = {}
        for u in users:
            by_source.setdefault(u["source"], []).append(u)
        assert set(by_source) == {"powerschool", "google"}
        google_ids = {u["sourced_id"] for u in by_source["google"]}
        students = {r["sourcedId"] for r in district_data.by_role("student")}
        assert students <= google_ids  # Google accounts keep the SIS id they carry
        assert store.count_records("lakeside", "2025-2026")["enrollments"] > 0
        version = store.latest_version("lakeside", "2025-2026")
        assert version.sources["powerschool"]["type"] == "powerschool"
    finally:
        store.dispose()


def test_a_failed_extract_fails_the_run_and_changes_nothing(district_data, passport_home, tmp_path, monkeypatch,
                                                             store_url):
    with start_powerschool_fake(district_data) as ps:
        config, env = powerschool_source_config(ps)
        write_integration(tmp_path / "integrations", "lakeside", _sources(monkeypatch, (config, env)))
        with dg.instance_for_test() as instance:
            assert run_sync(instance, "lakeside")["version"] == 1
            store = GoldenStore(store_url)
            before = store.count_records("lakeside", "2025-2026")
            # The SIS goes down mid-sync: every student page answers 503 until the retries run out.
            ps.faults.add(r"/student$", status=503, times=10_000)
            monkeypatch.setattr(SourceConnector, "retry_policy", _impatient)
            failed = run_sync(instance, "lakeside")
            assert failed["status"] == "failed" and failed["version"] is None
            assert any("server error" in e and "powerschool_extracts" in e for e in failed["errors"]), failed["errors"]
            assert store.count_records("lakeside", "2025-2026") == before
            assert [v.number for v in store.versions("lakeside", "2025-2026")] == [1]
            store.dispose()


def test_test_connection_job_reports_each_source(district_data, passport_home, tmp_path, monkeypatch):
    with start_powerschool_fake(district_data) as ps:
        good, env = powerschool_source_config(ps)
        bad = {**good, "name": "wrong_path", "base_url": f"{ps.url}/nothing-here"}
        write_integration(tmp_path / "integrations", "lakeside", _sources(monkeypatch, (good, env), (bad, {})))
        job = defs.resolve_job_def(TEST_CONNECTION)
        with dg.instance_for_test() as instance:
            ok = job.execute_in_process(instance=instance, run_config={
                "ops": {"check_connections": {"config": {"district": "lakeside", "source": "powerschool"}}}})
            assert ok.success and ok.output_for_node("check_connections") == {"powerschool": "ok"}
            failed = job.execute_in_process(instance=instance, raise_on_error=False, run_config={
                "ops": {"check_connections": {"config": {"district": "lakeside"}}}})
            assert not failed.success
            failure = next(e for e in failed.all_events if e.is_step_failure)
            message = failure.step_failure_data.error.message
            assert "wrong_path: not found" in message
            assert env[next(iter(env))] not in _event_text(instance, failed.run_id)


def test_incremental_oneroster_sync_fetches_only_what_changed_since_the_last_version(
        district_data, passport_home, tmp_path, monkeypatch, store_url):
    from tests.fakes.oneroster_api_server import oneroster_source_config, start_oneroster_fake

    with start_oneroster_fake(district_data, version="1.1", auth="oauth2") as server:
        config, env = oneroster_source_config(server, name="sis", mode="incremental")
        write_integration(tmp_path / "integrations", "lakeside", _sources(monkeypatch, (config, env)))
        with dg.instance_for_test() as instance:
            first = run_sync(instance, "lakeside")
            assert first["version"] == 1 and first["status"] == "successfully in production", first["errors"]
            # No cursor yet: a complete pull (of the year's sessions, and everything else).
            assert {r.arg("filter") for r in server.requests if r.arg("filter")} == {"schoolYear='2026'"}
            store = GoldenStore(store_url)
            cursor = store.latest_version("lakeside", "2025-2026").sources["sis"]["cursor"]
            assert cursor  # kept with the version, so the next sync starts there

            students = district_data.by_role("student")
            renamed, gone = students[0]["sourcedId"], students[1]["sourcedId"]
            server.oneroster.modify("users", renamed, givenName="Renamed")
            server.oneroster.mark_deleted("users", gone)
            before = len(server.requests)
            second = run_sync(instance, "lakeside")
            assert second["version"] == 2, second["errors"]
            pulls = [r for r in server.requests[before:] if "/ims/oneroster/" in r.path]
            # The year's sessions are read whole (they tell the year's classes); the rest is what changed.
            sessions = [r for r in pulls if r.path.endswith("/academicSessions")]
            assert sessions and {r.arg("filter") for r in sessions} == {"schoolYear='2026'"}
            assert all(r.arg("filter", "").startswith("dateLastModified>'") for r in pulls if r not in sessions)
            assert second["changes"]["users"] == {"added": 0, "updated": 1, "deleted": 1}
            # The rest of the district was not in the delta and is still there.
            assert second["changes"]["enrollments"]["deleted"] == sum(
                1 for e in district_data.tables["enrollments"] if e["userSourcedId"] == gone)
            users = {u["sourced_id"]: u for u in store.current_records("lakeside", "2025-2026", "users").to_pylist()}
            assert users[renamed]["given_name"] == "Renamed" and gone not in users
            assert len(users) == len(district_data.users) - 1
            store.dispose()
