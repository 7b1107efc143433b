"""``passport validate``: a drop checked from the command line, as text or JSON."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from passport_pipelines.cli.main import cli
from tests.oneroster_packages import write_package, zip_package


@pytest.fixture(autouse=True)
def _one_duckdb_thread(monkeypatch):
    # Tiny packages: parallel DuckDB only adds overhead (and flakiness in timing on a busy machine).
    monkeypatch.setenv("PASSPORT_DUCKDB_THREADS", "1")


def run(*args: str):
    return CliRunner().invoke(cli, ["validate", *args], catch_exceptions=False)


def test_valid_package_exits_0(tmp_path):
    pkg = write_package(tmp_path / "pkg")
    result = run(str(pkg))
    assert result.exit_code == 0, result.output
    assert "OK" in result.output
    assert "0 error(s)" in result.output


def test_valid_12_zip_with_schema_option(tmp_path):
    pkg = zip_package(write_package(tmp_path / "pkg", "1.2"), tmp_path / "pkg.zip", subfolder="export")
    assert run(str(pkg), "--schema", "oneroster-1.2").exit_code == 0
    result = run(str(pkg))  # the default schema is 1.1: the 1.2 drop does not match it
    assert result.exit_code == 1
    assert "manifest.version" in result.output


def test_failing_package_exits_1_and_says_where(tmp_path):
    pkg = write_package(tmp_path / "pkg", files=["orgs"], cells={("orgs", 1, "type"): "county"})
    result = run(str(pkg))
    assert result.exit_code == 1
    assert "FAILS" in result.output
    assert "1 error(s)" in result.output
    line = next(x for x in result.output.splitlines() if "[value.enum]" in x)
    assert "orgs.csv:3" in line
    assert "column type" in line
    assert "'county'" in line


def test_filtered_rows_and_warnings_do_not_fail_the_drop(tmp_path):
    pkg = write_package(tmp_path / "pkg", cells={("enrollments", 1, "userSourcedId"): "stu-404",
                                                 ("classes", 0, "classType"): "Scheduled"})
    result = run(str(pkg))
    assert result.exit_code == 0, result.output
    assert "1 row(s) filtered, 1 warning(s)" in result.output
    assert "enrollments.csv:3 column userSourcedId" in result.output
    assert "[reference.missing]" in result.output


def test_json_output(tmp_path):
    pkg = write_package(tmp_path / "pkg", files=["users"],
                        cells={("users", 1, "enabledUser"): "yes", ("users", 2, "grades"): "14"})
    result = run(str(pkg), "--json")
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert doc["ok"] is False
    assert doc["errors"] == 1 and doc["warnings"] == 1
    assert doc["schema"] == "oneroster-1.1"
    assert doc["rows"] == {"users": 4}
    assert doc["totals_by_rule"] == {"error:value.boolean": 1, "warning:value.grades": 1}
    rows = {(f["rule"], f["severity"], f["file"], f["line"], f["column"], f["value"]) for f in doc["findings"]}
    assert rows == {("value.boolean", "error", "users.csv", 3, "enabledUser", "yes"),
                    ("value.grades", "warning", "users.csv", 4, "grades", "14")}


def test_json_output_of_a_passing_drop(tmp_path):
    pkg = write_package(tmp_path / "pkg", cells={("enrollments", 2, "classSourcedId"): "cls-404"})
    result = run(str(pkg), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["ok"] is True
    assert doc["errors"] == 0 and doc["filtered"] == 1
    assert doc["filtered"] == 1
    assert doc["findings"][0]["rule"] == "reference.missing"
    assert doc["findings"][0]["line"] == 4


def test_missing_path_fails(tmp_path):
    result = run(str(tmp_path / "nowhere"), "--json")
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert doc["ok"] is False and doc["findings"][0]["rule"] == "package.open"


def test_unknown_schema_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(cli, ["validate", str(tmp_path), "--schema", "oneroster-1.0"])
    assert result.exit_code == 2
