"""A CSV drop of another school year than the sync's is refused by validation, with the file, the
line and both years (validation/oneroster/school_year.py), and ``passport validate --school-year`` runs
the same check before an upload.

The minimal package (tests/oneroster_packages.py) is 2025-2026: sessions ``ay-2026`` (schoolYear)
and ``term-1`` (a semester), both ``schoolYear`` 2026; class ``cls-1`` is in ``term-1``; course
``crs-1`` is of ``ay-2026``. Row ``i`` of a file is on line ``i + 2``.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from passport_pipelines.cli.main import cli
from passport_pipelines.validation.oneroster.findings import Finding
from passport_pipelines.validation.oneroster.validation import ValidatedDrop, validate_package
from tests.oneroster_packages import write_package


@pytest.fixture(autouse=True)
def _one_duckdb_thread(monkeypatch):
    monkeypatch.setenv("PASSPORT_DUCKDB_THREADS", "1")


def check(tmp_path, school_year: str | None, **package) -> ValidatedDrop:
    pkg = write_package(tmp_path / "pkg", **package)
    return validate_package(pkg, "oneroster-1.1", school_year=school_year)


def findings(drop: ValidatedDrop, rule: str, severity: str | None = None) -> list[Finding]:
    return [f for f in drop.report.samples() if f.rule == rule and (severity is None or f.severity == severity)]


def test_a_drop_of_the_syncs_year_has_no_school_year_finding(tmp_path):
    drop = check(tmp_path, "2025-2026")
    assert drop.ok and drop.report.count() == 0, drop.report.render()


def test_a_drop_of_another_year_is_refused_naming_file_line_and_both_years(tmp_path):
    drop = check(tmp_path, "2024-2025")
    assert not drop.ok
    sessions = findings(drop, "academicSessions.school_year", "error")
    assert [(f.file, f.line, f.value) for f in sessions] == [
        ("academicSessions.csv", 2, "ay-2026"), ("academicSessions.csv", 3, "term-1")]
    assert all("2025-2026" in f.message and "2024-2025" in f.message for f in sessions)
    [cls] = findings(drop, "classes.school_year", "error")
    assert (cls.file, cls.line, cls.column, cls.value) == ("classes.csv", 2, "termSourcedIds", "term-1")
    assert "2025-2026" in cls.message and "2024-2025" in cls.message
    [course] = findings(drop, "courses.school_year", "warning")
    assert (course.file, course.line, course.column, course.value) == ("courses.csv", 2, "schoolYearSourcedId",
                                                                       "ay-2026")
    assert drop.filtered == {}  # references are not resolved once the drop failed


def test_without_a_school_year_the_years_are_not_checked(tmp_path):
    drop = check(tmp_path, None)
    assert drop.ok and not findings(drop, "academicSessions.school_year")


def test_last_years_sessions_next_to_this_years_are_a_warning(tmp_path):
    # Some SIS exports carry the previous year's sessions too: kept, reported, the drop passes.
    drop = check(tmp_path, "2025-2026", extra_rows={"academicSessions": [
        {"sourcedId": "ay-2025", "title": "2024-2025", "startDate": "2024-08-19", "endDate": "2025-06-13",
         "schoolYear": "2025"}]})
    assert drop.ok, drop.report.render()
    [warning] = findings(drop, "academicSessions.school_year")
    assert (warning.severity, warning.file, warning.line, warning.value) == ("warning", "academicSessions.csv", 4,
                                                                             "ay-2025")
    assert "2024-2025" in warning.message and "2025-2026" in warning.message


def test_a_class_in_a_term_of_another_year_is_refused_even_next_to_this_years_sessions(tmp_path):
    drop = check(tmp_path, "2025-2026",
                 extra_rows={"academicSessions": [{"sourcedId": "term-old", "title": "Spring 2025",
                                                   "type": "semester", "startDate": "2025-01-06",
                                                   "endDate": "2025-06-13", "schoolYear": "2025"}],
                             "classes": [{"sourcedId": "cls-2", "classCode": "MA101-2",
                                          "termSourcedIds": "term-1,term-old"}]})
    assert not drop.ok
    [error] = findings(drop, "classes.school_year", "error")
    assert (error.line, error.value) == (3, "term-old") and "2024-2025" in error.message
    assert findings(drop, "academicSessions.school_year", "warning")  # term-old itself: reported only


def test_a_drop_writing_the_starting_year_in_school_year_is_read_by_its_dates(tmp_path):
    # An exporter writing 2025 for 2025-2026 (OneRoster means the ending year): the schoolYear-type
    # session's dates say which year is meant, so the drop syncs as 2025-2026, with a warning ...
    starting = {("academicSessions", 0, "schoolYear"): "2025", ("academicSessions", 1, "schoolYear"): "2025"}
    drop = check(tmp_path, "2025-2026", cells=starting)
    assert drop.ok, drop.report.render()
    [warning] = findings(drop, "academicSessions.school_year_convention")
    assert (warning.severity, warning.file, warning.line) == ("warning", "academicSessions.csv", 2)
    # ... and is still refused as 2024-2025, which its dates are not.
    refused = validate_package(tmp_path / "pkg", "oneroster-1.1", school_year="2024-2025")
    assert not refused.ok and findings(refused, "academicSessions.school_year", "error")


def test_a_delta_of_another_years_sessions_alone_is_only_reported(tmp_path):
    # A delta is not the whole set: the year's sessions are on record, so new sessions of another
    # year are reported; classes pointing at them would still be refused.
    drop = check(tmp_path, "2025-2026", files=["academicSessions"], modes={"academicSessions": "delta"},
                 rows={"academicSessions": [{"sourcedId": "ay-2027", "title": "2026-2027", "type": "schoolYear",
                                             "startDate": "2026-08-17", "endDate": "2027-06-11",
                                             "schoolYear": "2027"}]})
    assert drop.ok, drop.report.render()
    assert [f.severity for f in findings(drop, "academicSessions.school_year")] == ["warning"]


# --- passport validate --school-year ----------------------------------------------------------------------

def _validate(*args: str):
    return CliRunner().invoke(cli, ["validate", *args], catch_exceptions=False)


def test_validate_with_the_school_year_refuses_another_years_drop(tmp_path):
    pkg = write_package(tmp_path / "pkg")
    assert _validate(str(pkg), "--school-year", "2025-2026").exit_code == 0
    result = _validate(str(pkg), "--school-year", "2024-2025")
    assert result.exit_code == 1
    assert "school year 2024-2025): FAILS" in result.output
    line = next(x for x in result.output.splitlines() if "academicSessions.csv:2" in x)
    assert "[academicSessions.school_year]" in line and "2025-2026" in line
    doc = json.loads(_validate(str(pkg), "--school-year", "2024-2025", "--json").output)
    assert doc["school_year"] == "2024-2025" and doc["ok"] is False
    assert doc["totals_by_rule"]["error:classes.school_year"] == 1


def test_validate_without_the_school_year_does_not_check_it(tmp_path):
    pkg = write_package(tmp_path / "pkg")
    result = _validate(str(pkg))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("value", ["2025", "2025-2027", "25-26"])
def test_validate_refuses_a_school_year_that_is_not_one(tmp_path, value):
    pkg = write_package(tmp_path / "pkg")
    result = CliRunner().invoke(cli, ["validate", str(pkg), "--school-year", value])
    assert result.exit_code == 2 and "not a school year like 2025-2026" in result.output
