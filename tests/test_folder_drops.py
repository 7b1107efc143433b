"""A folder drop is only its own files: what is not (a link, a device, a FIFO, a socket) is refused
with a finding, never opened, and reaches neither the archive, the report nor ``passport download``."""

from __future__ import annotations

import json
import os
import stat

import dagster as dg
import pytest
from click.testing import CliRunner

from passport_pipelines import settings
from passport_pipelines.cli.main import cli
from passport_pipelines.store.golden_store import GoldenStore
from passport_pipelines.validation.oneroster.findings import FindingsReport
from passport_pipelines.validation.oneroster.package import Package
from passport_pipelines.validation.oneroster.validation import validate_package
from tests.conftest import write_integration
from tests.district_files import make_district
from tests.malformed_drops import SECRET, build, outside_file, users_bytes
from tests.oneroster_packages import write_package
from tests.sync_harness import run_sync


@pytest.fixture(autouse=True)
def _one_duckdb_thread(monkeypatch):
    monkeypatch.setenv("PASSPORT_DUCKDB_THREADS", "1")


def test_a_device_is_refused_unopened(tmp_path):
    pkg = write_package(tmp_path / "pkg", files=["users"])
    try:
        os.mknod(pkg / "notes.csv", stat.S_IFCHR | 0o600, os.makedev(1, 3))  # /dev/null's numbers
    except PermissionError:
        pytest.skip("creating a device node needs CAP_MKNOD")
    drop = validate_package(pkg, "oneroster-1.1")
    [finding] = drop.report.samples()
    assert (finding.rule, finding.file) == ("package.special_file", "notes.csv")
    assert "a device" in finding.message


def test_a_hard_link_says_why_it_is_refused(tmp_path):
    path, _ = build("hard_link", tmp_path)
    [finding] = validate_package(path, "oneroster-1.1").report.samples()
    assert finding.rule == "package.hard_link" and "2 names on disk" in finding.message
    assert "nothing tells where" in finding.message


def test_names_differing_by_case_are_a_finding(tmp_path):
    pkg = write_package(tmp_path / "pkg", files=["users"])
    (pkg / "USERS.csv").write_bytes(users_bytes())
    drop = validate_package(pkg, "oneroster-1.1")
    [finding] = [f for f in drop.report.samples() if f.rule == "package.duplicate_name"]
    assert "USERS.csv and users.csv" in finding.message
    assert "users" not in drop.present


def test_a_file_swapped_for_a_link_after_the_listing_is_refused_when_read(tmp_path):
    pkg = write_package(tmp_path / "pkg", files=["users"])
    package = Package.open(pkg)
    (pkg / "users.csv").unlink()
    (pkg / "users.csv").symlink_to(outside_file(tmp_path))
    report = FindingsReport()
    assert package.read("users.csv", report) is None
    assert report.totals() == {"package.symlink": 1}


def test_a_file_swapped_for_a_fifo_after_the_listing_is_refused_without_blocking(tmp_path):
    pkg = write_package(tmp_path / "pkg", files=["users"])
    package = Package.open(pkg)
    (pkg / "users.csv").unlink()
    os.mkfifo(pkg / "users.csv")  # opening it for reading the usual way waits for a writer forever
    report = FindingsReport()
    assert package.read("users.csv", report) is None
    assert report.totals() == {"package.special_file": 1}
    dest = tmp_path / "copy"
    dest.mkdir()
    package.copy_files(dest)
    assert list(dest.iterdir()) == [dest / "manifest.csv"]
    assert [f.rule for f in package.refused] == ["package.special_file"]


def test_validate_command_never_shows_what_a_link_points_at(tmp_path):
    pkg = write_package(tmp_path / "pkg", files=["users"], omit=["users.csv"])
    (pkg / "users.csv").symlink_to(outside_file(tmp_path))  # a roster file: its header would be echoed
    result = CliRunner().invoke(cli, ["validate", str(pkg)], catch_exceptions=False)
    assert result.exit_code == 1
    assert "[package.symlink]" in result.output and "users.csv" in result.output
    assert "PASSPORT_OUTSIDE_SECRET" not in result.output


@pytest.mark.slow
def test_a_sync_refuses_links_and_archives_only_the_drops_own_files(tmp_path, passport_home, sqlite_store):
    drop = make_district(tmp_path / "drop", students=10)
    environ = outside_file(tmp_path, "environ")
    (drop / "notes.csv").symlink_to(environ)
    (drop / "shadow.csv").symlink_to(outside_file(tmp_path, "shadow"))
    (drop / "demographics.csv").unlink()
    (drop / "demographics.csv").symlink_to(outside_file(tmp_path, "passwd"))
    write_integration(tmp_path / "integrations", "lakeside", [{"name": "sis", "type": "csv", "path": str(drop)}])
    with dg.instance_for_test() as instance:
        summary = run_sync(instance, "lakeside")
    assert summary["status"] == "failed validation"
    findings = summary["checks"]["drop_is_valid"]["metadata"]["findings"]
    refused = {(f["file"], f["rule"]) for f in findings if f["rule"].startswith("package.")}
    assert refused == {("notes.csv", "package.symlink"), ("shadow.csv", "package.symlink"),
                       ("demographics.csv", "package.symlink")}
    assert GoldenStore(sqlite_store).latest_version("lakeside", "2025-2026") is None
    # Nothing of the linked files anywhere the hub keeps things: archive, report, run metadata.
    archive = settings.artifacts_dir() / "originals" / "lakeside" / "2025-2026" / summary["run_id"] / "sis"
    assert sorted(p.name for p in archive.iterdir()) == sorted(
        {"manifest.csv", "orgs.csv", "academicSessions.csv", "courses.csv", "classes.csv", "users.csv",
         "enrollments.csv", "validation_report.json"})
    for path in passport_home.rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert SECRET.encode() not in path.read_bytes(), path
    assert SECRET not in json.dumps(summary, default=str)


@pytest.mark.slow
def test_download_returns_only_what_the_sync_archived(tmp_path, passport_home, sqlite_store):
    # A link outside the CSVs the drop is read from (a .txt) is no part of it: not copied, not refused.
    drop = make_district(tmp_path / "drop", students=10)
    (drop / "notes.txt").symlink_to(outside_file(tmp_path))
    write_integration(tmp_path / "integrations", "lakeside", [{"name": "sis", "type": "csv", "path": str(drop)}])
    with dg.instance_for_test() as instance:
        summary = run_sync(instance, "lakeside")
    assert summary["status"] == "successfully in production", summary["errors"]
    out = tmp_path / "download"
    result = CliRunner().invoke(cli, ["download", "lakeside", "1", "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    names = {p.name for p in (out / "sis").iterdir()}
    assert names == {p.name for p in drop.iterdir() if p.suffix == ".csv"} | {"validation_report.json"}
    assert not any(SECRET.encode() in p.read_bytes() for p in out.rglob("*") if p.is_file())
