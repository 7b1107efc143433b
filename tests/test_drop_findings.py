"""Broken and hostile drops give a finding, never a traceback, and the same finding whether they are
checked with ``passport validate`` or arrive in a sync (tests/malformed_drops.py builds them)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from passport_pipelines import settings
from passport_pipelines.cli.main import cli
from passport_pipelines.config.integration import Integration
from passport_pipelines.config.package_limits import PackageLimits
from passport_pipelines.store.golden_store import GoldenStore
from passport_pipelines.validation.extract import extract_source
from passport_pipelines.validation.oneroster.findings import FindingsReport
from passport_pipelines.validation.oneroster.validation import validate_package
from tests.malformed_drops import CASES, SECRET, build


@pytest.fixture(autouse=True)
def _one_duckdb_thread(monkeypatch):
    monkeypatch.setenv("PASSPORT_DUCKDB_THREADS", "1")


def _integration(tmp_path: Path, path: Path) -> Integration:
    return Integration.model_validate({
        "district": "lakeside", "name": "Lakeside", "school_years": ["2025-2026"],
        "sources": [{"name": "sis", "type": "csv", "path": str(path)}], "file": tmp_path / "lakeside.yaml",
    })


def sync_extract(tmp_path: Path, path: Path) -> tuple[FindingsReport, Path]:
    """The sync's extract stage (fetch into the archive, then validate) on the drop at ``path``."""
    integration = _integration(tmp_path, path)
    store = GoldenStore(settings.database_url())
    try:
        extract, report = extract_source(integration, integration.source("sis"), school_year="2025-2026",
                                         run_id=uuid.uuid4().hex, store=store)
    finally:
        store.dispose()
    return report, Path(extract.archive)


def validate_command(path: Path) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["validate", str(path), "--json"], catch_exceptions=False)
    return result.exit_code, json.loads(result.output)


def _about_the_files(findings: list[dict]) -> list[dict]:
    # A sync also checks references against the ids on record for the files a drop leaves out;
    # `passport validate` has no record to check them against. Everything else must be the same.
    return [f for f in findings if not f["rule"].startswith("reference.")]


@pytest.mark.parametrize("case", list(CASES))
def test_each_broken_drop_gives_its_finding(tmp_path, case):
    path, expected = build(case, tmp_path)
    drop = validate_package(path, "oneroster-1.1")
    found = [(f.rule, f.file, f.line, f.column) for f in drop.report.samples()]
    if expected is None:
        assert drop.ok and not found, drop.report.render()
    else:
        assert not drop.ok
        assert expected in found, drop.report.render()
        assert all(f.severity == "error" for f in drop.report.samples() if f.rule == expected[0])


@pytest.mark.parametrize("case", list(CASES))
def test_validate_and_a_sync_give_the_same_findings(tmp_path, passport_home, sqlite_store, case):
    path, expected = build(case, tmp_path)
    code, doc = validate_command(path)
    assert code == (0 if expected is None else 1)
    report, archive = sync_extract(tmp_path, path)
    assert _about_the_files(report.to_dict()["findings"]) == _about_the_files(doc["findings"])
    assert report.has_errors == (expected is not None)
    # What a file outside the drop holds reaches neither report nor the archive.
    assert SECRET not in json.dumps(doc)
    if archive.exists():
        assert all(SECRET.encode() not in p.read_bytes() for p in archive.rglob("*") if p.is_file())


def test_a_symlinked_file_is_never_copied_into_the_archive(tmp_path, passport_home, sqlite_store):
    path, _ = build("symlink_in_folder", tmp_path)
    report, archive = sync_extract(tmp_path, path)
    assert report.totals("error") == {"package.symlink": 1}
    assert sorted(p.name for p in archive.iterdir()) == ["manifest.csv", "users.csv", "validation_report.json"]
    assert not any(p.is_symlink() for p in archive.iterdir())


def test_the_configured_path_may_itself_be_a_link(tmp_path, passport_home, sqlite_store):
    # The link is the integration file's (an admin's) choice: followed. Entries inside it are not.
    path, _ = build("mixed_line_endings", tmp_path)
    link = tmp_path / "current-drop"
    link.symlink_to(path, target_is_directory=True)
    assert validate_package(link, "oneroster-1.1").ok
    report, archive = sync_extract(tmp_path, link)
    assert not report.has_errors, report.render()
    assert (archive / "users.csv").read_bytes() == (path / "users.csv").read_bytes()


def test_a_control_character_is_located_and_personal_values_stay_masked(tmp_path):
    from tests.malformed_drops import users_bytes
    from tests.oneroster_packages import valid_rows, write_package

    rows = valid_rows()["users"]
    rows[1]["familyName"] = "Ort\x00iz"  # line 3, personal
    rows[2]["grades"] = "1\x070"  # line 4, not personal (a BEL)
    rows[3]["givenName"] = "Da\tna"  # a tab is text
    drop = validate_package(write_package(tmp_path / "pkg", files=["users"], raw={"users.csv": users_bytes(rows)}),
                            "oneroster-1.1")
    found = {(f.line, f.column, f.value, f.message) for f in drop.report.samples()}
    assert found == {
        (3, "familyName", "<6 characters withheld>",
         "contains the control character 0x00 (NUL and the like are not text); remove it"),
        (4, "grades", "1\\x070", "contains the control character 0x07 (NUL and the like are not text); remove it"),
    }
    assert drop.report.totals() == {"value.control_character": 2}


@pytest.mark.parametrize("problem", ["ragged", "unclosed_quote", "big_cell"])
def test_a_problem_megabytes_in_is_located_on_its_line(tmp_path, problem):
    # Past the scan's first pieces, after cells that hold line breaks (so lines and records differ).
    from tests.malformed_drops import users_bytes
    from tests.oneroster_packages import valid_rows, write_package

    base = valid_rows()["users"][1]
    rows = [{**base, "sourcedId": f"stu-{i}", "identifier": f"S{i}", "username": f"u{i}",
             "familyName": "Two\nLines" if i % 7 == 0 else "Ortiz"} for i in range(40_000)]
    data = users_bytes(rows)
    assert len(data) > 3 << 20
    line = data.count(b"\n") + 1  # the line the appended record starts on
    cells = ["stu-x", "", "", "true", "sch-1", "student", "x", "", "X", "Y", *[""] * 8]  # 18, as the header
    if problem == "ragged":
        cells.append("extra")
    elif problem == "unclosed_quote":
        cells[8] = '"X'
    else:
        cells[9] = "Y" * (2 << 20)
    bad = ",".join(cells).encode() + b"\r\n" + (data.split(b"\r\n", 1)[1] if problem == "unclosed_quote" else b"")
    pkg = write_package(tmp_path / "pkg", files=["users"], raw={"users.csv": data + bad})
    [finding] = validate_package(pkg, "oneroster-1.1", limits=PackageLimits(max_field_size=1 << 20)).report.samples()
    expected = {"ragged": ("file.parse", None), "unclosed_quote": ("file.parse", None),
                "big_cell": ("value.too_large", "familyName")}[problem]
    assert (finding.rule, finding.line, finding.column) == (expected[0], line, expected[1]), finding
