"""What ended and crashed runs leave behind is cleared by the next sync; a failed check prints its findings."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from passport_pipelines import settings
from passport_pipelines.artifacts.layout import people_dir, reuse_root, runs_dir
from passport_pipelines.cli.main import cli
from passport_pipelines.store.golden_store import GoldenStore
from passport_pipelines.store.version_status import PENDING_PROPAGATION, PROPAGATION_FAILED
from tests.conftest import write_integration
from tests.district_files import make_district
from tests.sync_harness import run_sync

pytestmark = pytest.mark.slow

YEAR = "2025-2026"
AN_HOUR_AGO = time.time() - 2 * 3600


def _aged(path: Path) -> Path:
    os.utime(path, (AN_HOUR_AGO, AN_HOUR_AGO))
    return path


def test_the_next_sync_clears_what_ended_and_crashed_runs_left(tmp_path, passport_home, sqlite_store):
    drop = make_district(tmp_path / "drop", students=30)
    exports = tmp_path / "exports"
    write_integration(tmp_path / "integrations", "lakeside", [
        {"name": "sis", "type": "csv", "path": str(drop), "schema": "oneroster-1.1", "mode": "full"}],
        destinations=[{"name": "oneroster_export", "type": "oneroster-1.1-csv", "folder": str(exports)}])
    store = GoldenStore(sqlite_store)
    with dg.instance_for_test() as instance:
        first = run_sync(instance, "lakeside")
        assert first["status"] == "successfully in production"
        first_run = runs_dir("lakeside", YEAR) / first["run_id"]
        assert first_run.is_dir()  # kept until the next sync of the partition looks
        # What a process killed midway leaves: staging folders of a stage, of the reuse cache and of the
        # people cache, a half-written export, and a version committed but never delivered.
        debris = [Path(p) for p in (
            runs_dir("lakeside", YEAR) / ".a1b2c3d4.tmp",
            first_run / "normalized_rosters" / ".sis.deadbeef",
            reuse_root("lakeside", YEAR) / "source_extracts" / "sis" / ".fingerprint.0badc0de",
            people_dir("lakeside", YEAR) / "pending" / ".token.12345678")]
        for folder in debris:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "users.parquet").write_bytes(b"student data")
            _aged(folder)
        partial = exports / ".lakeside_2025-2026_v9_oneroster-1.1.zip.x1y2.partial"
        partial.write_bytes(b"half a zip")
        _aged(partial)
        fresh = runs_dir("lakeside", YEAR) / ".still-being-written"  # a live writer's: left alone
        fresh.mkdir()
        stuck = store.latest_version("lakeside", YEAR)
        store.set_status(stuck.id, PENDING_PROPAGATION)

        second = run_sync(instance, "lakeside")
        assert second["status"] == "successfully in production"
        assert not first_run.exists()  # its run succeeded: its working tables are gone
        assert all(not p.exists() for p in debris) and not partial.exists()
        assert fresh.exists()
        assert store.version(stuck.id).status == PROPAGATION_FAILED
        settled = instance.get_latest_materialization_event(dg.AssetKey("integration_settings"))
        assert settled.asset_materialization.metadata["settled_versions"].value == [stuck.number]


def test_a_failed_run_keeps_its_working_tables_for_a_re_execution(tmp_path, passport_home, sqlite_store,
                                                                     monkeypatch):
    drop = make_district(tmp_path / "drop", students=20)
    write_integration(tmp_path / "integrations", "lakeside", [
        {"name": "sis", "type": "csv", "path": str(drop), "schema": "oneroster-1.1", "mode": "full"}])
    broken = tmp_path / "transforms"
    shutil.copytree(settings.transforms_dir(), broken)
    (broken / "oneroster_csv" / "users.sql").write_text("SELECT no_such_column FROM {{ source('oneroster_csv', 'users') }}")
    with dg.instance_for_test() as instance:
        monkeypatch.setenv("PASSPORT_TRANSFORMS_DIR", str(broken))
        failed = run_sync(instance, "lakeside")
        assert failed["status"] == "failed"
        monkeypatch.delenv("PASSPORT_TRANSFORMS_DIR")
        assert run_sync(instance, "lakeside")["status"] == "successfully in production"
    assert (runs_dir("lakeside", YEAR) / failed["run_id"] / "source_extracts").is_dir()


def test_a_failed_schema_check_prints_its_count_and_its_failure_cases(tmp_path, passport_home, sqlite_store,
                                                                      monkeypatch):
    drop = make_district(tmp_path / "drop", students=10)
    write_integration(tmp_path / "integrations", "lakeside", [
        {"name": "sis", "type": "csv", "path": str(drop), "schema": "oneroster-1.1", "mode": "full"}])
    custom = tmp_path / "transforms"
    shutil.copytree(settings.transforms_dir(), custom)
    orgs = custom / "oneroster_csv" / "orgs.sql"
    orgs.write_text(orgs.read_text().replace(
        "or_enum(type, ['department', 'school', 'district', 'local', 'state', 'national']) AS type",
        "'campus' AS type"))
    monkeypatch.setenv("PASSPORT_TRANSFORMS_DIR", str(custom))
    result = CliRunner().invoke(cli, ["sync", "lakeside"])
    assert result.exit_code == 1
    assert "None finding(s)" not in result.output
    assert "check canonical_schema failed: " in result.output
    count = int(result.output.split("check canonical_schema failed: ")[1].split(" ")[0])
    assert count >= 1
    assert "sis orgs.type: isin(" in result.output and "(value campus" in result.output
