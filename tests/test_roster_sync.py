"""End to end: the roster_sync job materializing one district × school year partition."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from passport_pipelines.jobs.partitions import sync_partition_key
from passport_pipelines.store.golden_store import GoldenStore
from tests.conftest import write_integration

pytestmark = pytest.mark.slow  # whole syncs through Dagster; CI runs them, `pytest -m 'not slow'` skips them
from tests.district_files import edit_rows, make_district, read_rows, write_manifest
from tests.sync_harness import approve_held, run_sync

# Tests whose subject is not the store (the change set, validation, the runner's caching, in DuckDB) run on
# SQLite only; the store's own behaviour on PostgreSQL is covered by the others and by test_golden_store.py.
SQLITE_ONLY = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)

ASSETS = ["source_extracts", "normalized_rosters", "roster_changes", "golden_records", "duplicate_review_queue",
          "oneroster_exports"]


@pytest.fixture
def district(tmp_path, passport_home, store_url):
    drop = make_district(tmp_path / "drop", students=40, reference_errors=2)
    write_integration(tmp_path / "integrations", "lakeside", [
        {"name": "sis", "type": "csv", "path": str(drop), "schema": "oneroster-1.1", "mode": "full"}])
    return drop


def _store(url: str) -> GoldenStore:
    return GoldenStore(url)


def test_full_sync_commits_version_one_and_delivers(district, store_url):
    with dg.instance_for_test() as instance:
        summary = run_sync(instance, "lakeside")
        assert summary["status"] == "successfully in production", summary["errors"]
        assert summary["version"] == 1
        _, users = read_rows(district / "users.csv")
        assert summary["changes"]["users"]["added"] == len(users)
        assert summary["filtered"]["enrollments"] >= 2  # the injected dangling references, and their cascade

        key = sync_partition_key("lakeside", "2025-2026")
        for asset in ASSETS:
            event = instance.get_latest_materialization_event(dg.AssetKey(asset))
            assert event is not None and event.asset_materialization.partition == key, asset
        checks = {c: summary["checks"][c]["passed"] for c in summary["checks"]}
        assert checks == {"drop_is_valid": True, "references_resolve": False, "canonical_schema": True,
                          "sessions_in_school_year": True, "data_requirements": True, "review_queue_growth": True,
                          "sync_hold": True}

    store = _store(store_url)
    counts = store.count_records("lakeside", "2025-2026")
    assert counts["users"] == len(users)
    version = store.latest_version("lakeside", "2025-2026")
    assert version.status == "successfully in production"
    assert (version.archive_path and (pd.io.common.Path(version.archive_path) / "sis" / "users.csv").exists())

    [export] = summary["deliveries"]
    with zipfile.ZipFile(export) as zf:
        names = set(zf.namelist())
        assert {"manifest.csv", "users.csv", "enrollments.csv", "classes.csv"} <= names
        exported = pd.read_csv(zf.open("users.csv"), dtype=str)
        enrollments = pd.read_csv(zf.open("enrollments.csv"), dtype=str)
    assert len(exported) == len(users)
    # Delivered ids are golden ids, and references point at golden ids too.
    assert exported["sourcedId"].str.startswith("usr-").all()
    assert enrollments["userSourcedId"].isin(exported["sourcedId"]).all()
    assert exported["password"].isna().all()


@SQLITE_ONLY
def test_unchanged_resync_has_no_changes_and_keeps_golden_ids(district, store_url):
    with dg.instance_for_test() as instance:
        first = run_sync(instance, "lakeside")
        ids_before = _store(store_url).current_records("lakeside", "2025-2026", "users").column("golden_id").to_pylist()
        second = run_sync(instance, "lakeside")
    assert first["version"] == 1 and second["version"] == 2
    assert all(c == {"added": 0, "updated": 0, "deleted": 0} for c in second["changes"].values())
    ids_after = _store(store_url).current_records("lakeside", "2025-2026", "users").column("golden_id").to_pylist()
    assert sorted(ids_before) == sorted(ids_after)


def test_full_mode_deletes_what_is_missing_and_ends_enrollments(district, store_url):
    _, users = read_rows(district / "users.csv")
    student = next(u for u in users if u["role"] == "student")
    _, enrollments = read_rows(district / "enrollments.csv")
    theirs = [e for e in enrollments if e["userSourcedId"] == student["sourcedId"]]
    assert theirs
    with dg.instance_for_test() as instance:
        run_sync(instance, "lakeside")
        edit_rows(district / "users.csv", lambda rows: [r for r in rows if r["sourcedId"] != student["sourcedId"]])
        edit_rows(district / "demographics.csv", lambda rows: [r for r in rows if r["sourcedId"] != student["sourcedId"]])
        summary = run_sync(instance, "lakeside")
    assert summary["status"] == "successfully in production"
    assert summary["changes"]["users"] == {"added": 0, "updated": 0, "deleted": 1}
    assert summary["changes"]["enrollments"]["deleted"] == len(theirs)
    assert summary["changes"]["demographics"]["deleted"] == 1
    store = _store(store_url)
    version = store.latest_version("lakeside", "2025-2026")
    deleted = [c for c in store.record_changes(version.id) if c["entity"] == "users"]
    assert [(c["sourced_id"], c["change"]) for c in deleted] == [(student["sourcedId"], "deleted")]


def test_update_names_the_changed_fields(district, store_url):
    def rename(rows):
        rows[1]["familyName"] = rows[1]["familyName"] + "-Renamed"
        return rows

    with dg.instance_for_test() as instance:
        run_sync(instance, "lakeside")
        edit_rows(district / "users.csv", rename)
        summary = run_sync(instance, "lakeside")
    assert summary["changes"]["users"] == {"added": 0, "updated": 1, "deleted": 0}
    store = _store(store_url)
    changes = store.record_changes(store.latest_version("lakeside", "2025-2026").id)
    assert [c["changed_fields"] for c in changes if c["entity"] == "users"] == ["family_name"]


@SQLITE_ONLY
def test_incremental_applies_only_the_rows_given(tmp_path, passport_home, store_url):
    drop = make_district(tmp_path / "drop", students=40)
    write_integration(tmp_path / "integrations", "lakeside", [
        {"name": "sis", "type": "csv", "path": str(drop), "schema": "oneroster-1.1", "mode": "incremental"}])
    header, users = read_rows(drop / "users.csv")
    students = [u for u in users if u["role"] == "student"]
    changed, removed = dict(students[0]), dict(students[1])
    with dg.instance_for_test() as instance:
        run_sync(instance, "lakeside")
        delta = tmp_path / "delta"
        delta.mkdir()
        changed.update(status="active", dateLastModified="2025-09-01T10:00:00.000Z", givenName="Renamed")
        removed.update(status="tobedeleted", dateLastModified="2025-09-01T10:00:00.000Z")
        new = dict(students[2], sourcedId="new-student-1", username="new.student", email="new@x.org",
                   identifier="999999", status="active", dateLastModified="2025-09-01T10:00:00.000Z", agentSourcedIds="")
        from tests.district_files import write_rows
        write_rows(delta / "users.csv", header, [changed, removed, new])
        write_manifest(delta, {"users": "delta"})
        write_integration(tmp_path / "integrations", "lakeside", [
            {"name": "sis", "type": "csv", "path": str(delta), "schema": "oneroster-1.1", "mode": "incremental"}])
        summary = run_sync(instance, "lakeside")
    assert summary["status"] == "successfully in production", summary["errors"]
    assert summary["changes"]["users"] == {"added": 1, "updated": 1, "deleted": 1}
    # Nothing that was not in the delta is deleted, beyond what the deleted student ends.
    assert summary["changes"]["classes"]["deleted"] == 0
    assert summary["changes"]["orgs"]["deleted"] == 0
    _, enrollments = read_rows(drop / "enrollments.csv")
    assert summary["changes"]["enrollments"]["deleted"] == sum(
        1 for e in enrollments if e["userSourcedId"] == removed["sourcedId"])
    counts = _store(store_url).count_records("lakeside", "2025-2026")
    assert counts["users"] == len(users)  # one added, one deleted


@SQLITE_ONLY
def test_failed_validation_leaves_the_store_unchanged(district, store_url):
    with dg.instance_for_test() as instance:
        run_sync(instance, "lakeside")
        store = _store(store_url)
        before = (store.count_records("lakeside", "2025-2026"), len(store.versions("lakeside")))
        # Two users with one sourcedId, and one without a family name: the drop must fail.
        edit_rows(district / "users.csv", lambda rows: rows + [dict(rows[3], username="dupe")])
        edit_rows(district / "users.csv", lambda rows: [dict(r, familyName="") if i == 5 else r for i, r in enumerate(rows)])
        summary = run_sync(instance, "lakeside")
    assert summary["status"] == "failed validation"
    assert summary["version"] is None and summary["failed_checks"] == ["drop_is_valid"]
    findings = summary["checks"]["drop_is_valid"]["metadata"]["findings"]
    rules = {(f["file"], f["rule"], f["column"]) for f in findings}
    assert ("users.csv", "key.duplicate", "sourcedId") in rules
    assert ("users.csv", "value.required", "familyName") in rules
    assert all(f["line"] for f in findings)
    assert (store.count_records("lakeside", "2025-2026"), len(store.versions("lakeside"))) == before


@SQLITE_ONLY
def test_crash_before_commit_leaves_store_unchanged_and_rerun_converges(district, store_url, tmp_path, monkeypatch):
    from passport_pipelines import settings

    broken = tmp_path / "transforms"
    shutil.copytree(settings.transforms_dir(), broken)
    (broken / "oneroster_csv" / "users.sql").write_text("SELECT no_such_column FROM {{ source('oneroster_csv', 'users') }}")
    with dg.instance_for_test() as instance:
        monkeypatch.setenv("PASSPORT_TRANSFORMS_DIR", str(broken))
        crashed = run_sync(instance, "lakeside")
        assert crashed["status"] == "failed"
        assert any("users.sql" in e for e in crashed["errors"])
        assert _store(store_url).latest_version("lakeside", "2025-2026") is None
        monkeypatch.delenv("PASSPORT_TRANSFORMS_DIR")
        rerun = run_sync(instance, "lakeside")
    assert rerun["status"] == "successfully in production" and rerun["version"] == 1


@SQLITE_ONLY
def test_two_sources_keep_equal_ids_apart(tmp_path, passport_home, store_url):
    a = make_district(tmp_path / "a", students=20, seed=1)
    b = make_district(tmp_path / "b", students=20, seed=2)
    write_integration(tmp_path / "integrations", "twin-sis", [
        {"name": "north", "type": "csv", "path": str(a)}, {"name": "south", "type": "csv", "path": str(b)}])
    with dg.instance_for_test() as instance:
        summary = run_sync(instance, "twin-sis")
    assert summary["status"] == "successfully in production", summary["errors"]
    _, ua = read_rows(a / "users.csv")
    _, ub = read_rows(b / "users.csv")
    assert summary["changes"]["users"]["added"] == len(ua) + len(ub)
    users = _store(store_url).current_records("twin-sis", "2025-2026", "users").to_pandas()
    assert users["golden_id"].is_unique
    assert set(users["source"]) == {"north", "south"}


@SQLITE_ONLY
def test_unchanged_drop_reuses_validation_and_delivers_nothing_new(district, store_url):
    with dg.instance_for_test() as instance:
        first = run_sync(instance, "lakeside")
        second = run_sync(instance, "lakeside")
    store = _store(store_url)
    v1, v2 = store.versions("lakeside", "2025-2026")
    assert v2.changes == {e: {"added": 0, "updated": 0, "deleted": 0} for e in v1.changes}
    assert second["deliveries"] == first["deliveries"]  # the export on file is still current
    assert [d["status"] for d in store.deliveries(v2.id)] == ["unchanged"]
    # The report of the reused validation is the same report.
    assert second["filtered"] == first["filtered"]
    assert second["checks"]["references_resolve"]["metadata"]["total"] == \
        first["checks"]["references_resolve"]["metadata"]["total"]
    # The archive of the second sync still holds its own copy of the originals.
    assert (Path(v2.archive_path) / "sis" / "users.csv").exists() and v2.archive_path != v1.archive_path


@SQLITE_ONLY
def test_changed_sql_models_are_never_served_from_the_previous_sync(district, store_url, tmp_path, monkeypatch):
    from passport_pipelines import settings

    with dg.instance_for_test() as instance:
        run_sync(instance, "lakeside")
        custom = tmp_path / "transforms"
        shutil.copytree(settings.transforms_dir(), custom)
        orgs = custom / "oneroster_csv" / "orgs.sql"
        orgs.write_text(orgs.read_text().replace("    name,\n", "    upper(name) AS name,\n"))
        monkeypatch.setenv("PASSPORT_TRANSFORMS_DIR", str(custom))
        summary = run_sync(instance, "lakeside")
        # Every org updated is more than the default 75%: held, as it should be; approve it.
        assert summary["status"] == "held", summary["errors"]
        summary = approve_held(instance, "lakeside", summary["version"])
    _, orgs_rows = read_rows(district / "orgs.csv")
    assert summary["changes"]["orgs"]["updated"] == len(orgs_rows)
    assert summary["deliveries"] and summary["deliveries"][0].endswith("_v2_oneroster-1.1.zip")


@SQLITE_ONLY
def test_a_failing_drop_fails_again_when_sent_again(district, store_url):
    (district / "manifest.csv").unlink()
    with dg.instance_for_test() as instance:
        assert run_sync(instance, "lakeside")["status"] == "failed validation"
        assert run_sync(instance, "lakeside")["status"] == "failed validation"
    assert _store(store_url).latest_version("lakeside", "2025-2026") is None


@SQLITE_ONLY
def test_the_checks_of_their_own_can_be_executed_again_alone(district, store_url):
    """canonical_schema, sessions_in_school_year, data_requirements and review_queue_growth read what
    their asset stored: executed alone (as from the asset's Checks tab), they judge the partition's
    latest materialization as the sync's run did, and record it on that partition."""
    from passport_pipelines.definitions import defs

    key = sync_partition_key("lakeside", "2025-2026")
    with dg.instance_for_test() as instance:
        summary = run_sync(instance, "lakeside")
        assert summary["status"] == "successfully in production", summary["errors"]
        graph = defs.resolve_asset_graph()
        separate = [k for k in graph.asset_check_keys if k.name in
                    ("canonical_schema", "sessions_in_school_year", "data_requirements", "review_queue_growth")]
        # What the UI launches for "Execute" on a check: the asset graph's job, subset to the checks.
        job = defs.resolve_implicit_global_asset_job_def().get_subset(asset_check_selection=set(separate))
        result = job.execute_in_process(instance=instance, partition_key=key)
        assert result.success
        evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
        assert set(evaluations) == {k.name for k in separate}
        for name, evaluation in evaluations.items():
            before = summary["checks"][name]
            assert (evaluation.passed, evaluation.severity.value) == (before["passed"], before["severity"]), name
        assert evaluations["data_requirements"].metadata["rows_missing_a_required_field"].value == 0
        assert not result.get_asset_materialization_events()  # the checks alone: nothing materialized again
        for check in separate:
            [info] = instance.event_log_storage.get_asset_check_partition_info([check])
            assert (info.partition_key, info.latest_planned_run_id) == (key, result.run_id)
