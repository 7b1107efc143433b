"""Held syncs through the real jobs: the sync hold threshold, preview, approval (the Dagster job, the
approval sensor and the CLI), rejection, supersession, history and the original files of a version."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from passport_pipelines.cli.main import cli
from passport_pipelines.definitions import defs
from passport_pipelines.jobs.ops.sync_approval import APPROVE_SYNC
from passport_pipelines.jobs.partitions import sync_partition_key
from passport_pipelines.jobs.sync_jobs import COMMIT_APPROVED_SYNC, ROSTER_SYNC
from passport_pipelines.sensors.approvals import approval_sensor
from passport_pipelines.store.golden_store import GoldenStore
from passport_pipelines.store.sync_holds import SyncHolds
from tests.conftest import write_integration
from tests.district_files import edit_rows, make_district, read_rows
from tests.sync_harness import run_sync

pytestmark = pytest.mark.slow

YEAR = "2025-2026"
PARTITION = sync_partition_key("lakeside", YEAR)


@pytest.fixture
def drop(tmp_path, passport_home, store_url):
    folder = make_district(tmp_path / "drop", students=40)
    write_integration(tmp_path / "integrations", "lakeside", [
        {"name": "sis", "type": "csv", "path": str(folder), "schema": "oneroster-1.1", "mode": "full"}])
    return folder


def _drop_students(folder: Path, share: float) -> int:
    """A truncated SIS export: the first ``share`` of the students gone from every file."""
    _, users = read_rows(folder / "users.csv")
    students = [u["sourcedId"] for u in users if u["role"] == "student"]
    gone = set(students[: int(len(students) * share)])
    edit_rows(folder / "users.csv", lambda rows: [r for r in rows if r["sourcedId"] not in gone])
    edit_rows(folder / "demographics.csv", lambda rows: [r for r in rows if r["sourcedId"] not in gone])
    edit_rows(folder / "enrollments.csv", lambda rows: [r for r in rows if r["userSourcedId"] not in gone])
    return len(gone)


def _rename_first_student(folder: Path, name: str) -> None:
    def rename(rows):
        student = next(r for r in rows if r["role"] == "student")
        student["givenName"] = name
        return rows
    edit_rows(folder / "users.csv", rename)


def _cli(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == code, result.output
    return result.output


def _materialize(instance, job: str, *, assets: list[str] | None = None, tags: dict | None = None):
    return defs.resolve_job_def(job).execute_in_process(
        instance=instance, partition_key=PARTITION, tags=tags or {}, raise_on_error=False,
        asset_selection=[dg.AssetKey(a) for a in assets] if assets else None)


def test_a_drop_missing_most_students_is_held_until_approved(drop, passport_home, store_url):
    store = GoldenStore(store_url)
    with dg.instance_for_test() as instance:
        first = run_sync(instance, "lakeside")
        assert first["status"] == "successfully in production", first["errors"]
        before = store.count_records("lakeside", YEAR)

        gone = _drop_students(drop, 0.6)
        held = run_sync(instance, "lakeside")
        assert held["status"] == "held" and held["version"] == 2
        assert any(r.startswith(f"users: {gone} of") and "more than 10%" in r for r in held["hold_reasons"])
        assert held["changes"]["users"]["deleted"] == gone
        # The blocking check gives the numbers per entity; nothing downstream ran.
        check = held["checks"]["sync_hold"]
        assert not check["passed"] and check["metadata"]["version"] == 2
        users = next(r for r in check["metadata"]["entities"] if r["entity"] == "users")
        assert users["deleted"] == gone and users["on_record"] == before["users"]
        assert users["deleted_percent"] == round(100 * gone / before["users"], 2)
        assert held["deliveries"] == []

        # Held: the store is as it was, and nothing is delivered even when the downstream assets
        # are materialized by hand.
        assert store.count_records("lakeside", YEAR) == before
        [v1, v2] = store.versions("lakeside", YEAR)
        assert (v2.status, v2.committed_at, v2.hold["held"]) == ("held", None, True)
        # What waits for the approval is a held change set in its documented, versioned format.
        assert (v2.held_changes["format"], v2.held_changes["format_version"]) == ("passport.held_change_set", 1)
        assert store.latest_version("lakeside", YEAR).id == v1.id
        for assets in (["oneroster_exports"], ["golden_records", "oneroster_exports"]):
            by_hand = _materialize(instance, ROSTER_SYNC, assets=assets)
            assert not by_hand.success
            assert "version 2 is held" in str(by_hand.all_events)
        assert store.count_records("lakeside", YEAR) == before
        assert [d["status"] for d in store.deliveries(v1.id)] == ["delivered"]
        assert store.deliveries(v2.id) == []

        # No approval yet: the sensor waits.
        with dg.build_sensor_context(instance=instance, resources=defs.resources) as ctx:
            assert isinstance(approval_sensor(ctx), dg.SkipReason)

        # Approve through the Dagster job, as from the Launchpad.
        decision = defs.resolve_job_def(APPROVE_SYNC).execute_in_process(
            instance=instance, run_config={"ops": {"approve_held_sync": {"config": {
                "district": "lakeside", "school_year": YEAR, "version": 2, "by": "registrar@lakeside.k12.us"}}}})
        assert decision.success
        assert store.version(v2.id).status == "approved"

        # The approval sensor asks for one commit-and-deliver run of version 2.
        with dg.build_sensor_context(instance=instance, resources=defs.resources) as ctx:
            [request] = approval_sensor(ctx)
        assert request.run_key == f"approved-version-{v2.id}" and request.partition_key == PARTITION
        run = _materialize(instance, COMMIT_APPROVED_SYNC, tags=request.tags)
        assert run.success, [e.message for e in run.all_events if e.is_failure]
        # The history is in Dagster too: golden_records' materialization lists the versions, newest first.
        [materialization] = run.asset_materializations_for_node("golden_records")
        history = [r.data for r in materialization.metadata["history"].value.records]
        assert [(r["version"], r["decided_by"]) for r in history] == [(2, "registrar@lakeside.k12.us"), (1, "")]
        assert history[0]["deleted"] >= gone and history[1]["status"] == "successfully in production"

        v2 = store.version(v2.id)
        assert (v2.number, v2.status, v2.decided_by) == (2, "successfully in production", "registrar@lakeside.k12.us")
        assert v2.committed_at is not None
        assert store.count_records("lakeside", YEAR)["users"] == before["users"] - gone
        [delivery] = store.deliveries(v2.id)
        assert delivery["status"] == "delivered" and "_v2_" in delivery["path"]
        assert not (passport_home / "artifacts" / "held" / "lakeside" / YEAR).exists()
        with dg.build_sensor_context(instance=instance, resources=defs.resources) as ctx:
            assert isinstance(approval_sensor(ctx), dg.SkipReason)

        # Approving twice is refused, with the reason.
        again = _cli("approve", "lakeside", "2", "--by", "x@lakeside.k12.us", code=1)
        assert "is successfully in production, not held" in again


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_preview_from_the_cli_is_held_then_rejected_and_the_next_sync_commits(drop, passport_home, store_url):
    store = GoldenStore(store_url)
    _cli("sync", "lakeside")
    before = store.count_records("lakeside", YEAR)
    _rename_first_student(drop, "Renamed")

    out = _cli("sync", "lakeside", "--preview", code=3)
    assert "lakeside 2025-2026: held (version 2)" in out and "preview requested" in out
    assert json.loads(_cli("history", "lakeside", "--json"))["versions"][1]["status"] == "held"
    held_folder = Path(SyncHolds(store).find("lakeside", YEAR, 2).held_changes["held_folder"])
    assert held_folder.is_dir()

    out = _cli("reject", "lakeside", "2", "--by", "registrar@lakeside.k12.us")
    assert "rejected by registrar@lakeside.k12.us" in out
    assert not held_folder.exists()
    assert store.count_records("lakeside", YEAR) == before
    assert "is rejected, not held" in _cli("approve", "lakeside", "2", "--by", "x@y.org", code=1)

    history = _cli("history", "lakeside")
    assert "rejected" in history and "held: preview requested for this sync" in history
    assert "rejected by registrar@lakeside.k12.us" in history
    assert "users +0 ~1 -0" in history

    # The rejected change set is not the base of anything: the next sync finds the same change.
    out = _cli("sync", "lakeside")
    assert "successfully in production (version 3)" in out
    assert [v.status for v in store.versions("lakeside", YEAR)] == [
        "successfully in production", "rejected", "successfully in production"]
    assert store.versions("lakeside", YEAR)[2].changes["users"]["updated"] == 1


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_integration_preview_holds_every_change_and_a_later_sync_supersedes_it(drop, passport_home, store_url):
    store = GoldenStore(store_url)
    _cli("sync", "lakeside")
    integration = passport_home.parent / "integrations" / "lakeside.yaml"
    integration.write_text(integration.read_text() + "change_control:\n  preview: true\n")

    # Nothing changed: nothing to approve, so not held.
    assert "successfully in production (version 2)" in _cli("sync", "lakeside")
    _rename_first_student(drop, "First")
    assert "every change waits for approval" in _cli("sync", "lakeside", code=3)
    _rename_first_student(drop, "Second")
    assert "held (version 4)" in _cli("sync", "lakeside", code=3)
    statuses = {v.number: (v.status, v.decided_by) for v in store.versions("lakeside", YEAR)}
    assert statuses[3] == ("rejected", "superseded by version 4") and statuses[4] == ("held", None)

    # Approved from the CLI: committed and delivered in this process.
    out = _cli("approve", "lakeside", "4", "--by", "registrar@lakeside.k12.us")
    assert "successfully in production (version 4)" in out
    [student] = [r for r in store.current_records("lakeside", YEAR, "users").to_pylist() if r["given_name"] == "Second"]
    assert student["role"] == "student"


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_download_returns_the_original_files_of_a_version(drop, tmp_path, store_url):
    _cli("sync", "lakeside")
    out = tmp_path / "v1"
    assert "written to" in _cli("download", "lakeside", "1", "--out", str(out))
    [source] = [p for p in out.iterdir() if p.is_dir()]
    assert source.name == "sis"
    for name in ("users.csv", "enrollments.csv", "manifest.csv"):
        assert filecmp.cmp(drop / name, source / name, shallow=False)
    assert (source / "validation_report.json").exists()
    assert "not empty" in _cli("download", "lakeside", "1", "--out", str(out), code=1)
    assert "has no version 9" in _cli("download", "lakeside", "9", "--out", str(tmp_path / "v9"), code=1)
