"""The school-year check of an API source's canonical tables (normalize/school_year_check.py): the
source, the record, the session and both years are named; blank schoolYear values are read from
the session's dates. Whole API syncs of two years are in tests/test_prior_year_sync.py."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from passport_pipelines.normalize.rosters import NormalizedSource
from passport_pipelines.normalize.school_year_check import check_normalized_source, check_school_years
from passport_pipelines.validation.extract import SourceExtract


def _write(folder, sessions: list[tuple], classes: list[tuple] = (), courses: list[tuple] = ()):
    """sessions: (sourced_id, type, start_date, ending_year); classes: (sourced_id, term_sourced_ids);
    courses: (sourced_id, school_year_sourced_id) — the columns the check reads."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = {
        "academic_sessions": pa.table({k: pa.array(v, pa.string()) for k, v in zip(
            ("sourced_id", "type", "start_date", "ending_year"), zip(*sessions))}),
        "classes": pa.table({k: pa.array(v, pa.string()) for k, v in zip(
            ("sourced_id", "term_sourced_ids"), zip(*classes) if classes else ([], []))}),
        "courses": pa.table({k: pa.array(v, pa.string()) for k, v in zip(
            ("sourced_id", "school_year_sourced_id"), zip(*courses) if courses else ([], []))}),
    }
    con = duckdb.connect()
    for name, table in tables.items():
        con.register("t", table)
        con.execute(f"COPY t TO '{folder / (name + '.parquet')}' (FORMAT parquet)")
        con.unregister("t")
    con.close()
    return folder


CURRENT = [("term-3500", "schoolYear", "2025-08-18", "2026"), ("term-3501", "semester", "2025-08-18", "2026")]
BULK = {"academic_sessions": "bulk", "classes": "bulk", "courses": "bulk"}


@pytest.fixture(autouse=True)
def _home(passport_home):
    return passport_home


def test_a_roster_of_the_syncs_year_passes(tmp_path):
    folder = _write(tmp_path / "sis", CURRENT, classes=[("section-1", "term-3501")], courses=[("course-1", None)])
    report = check_normalized_source("sis", folder, BULK, "2025-2026")
    assert report.count() == 0


def test_another_years_roster_fails_naming_source_session_and_both_years(tmp_path):
    folder = _write(tmp_path / "sis", CURRENT, classes=[("section-1", "term-3501"), ("section-2", "term-3500")])
    report = check_normalized_source("sis", folder, BULK, "2024-2025")
    assert report.has_errors
    assert report.totals("error") == {"academicSessions.school_year": 2, "classes.school_year": 2}
    session = next(f for f in report.samples() if f.rule == "academicSessions.school_year")
    assert (session.file, session.value) == ("academic_sessions", "term-3500")
    assert "session term-3500 of source sis is of school year 2025-2026, not 2024-2025" in session.message
    cls = next(f for f in report.samples() if f.rule == "classes.school_year")
    assert cls.value == "section-1" and "term term-3501 of school year 2025-2026" in cls.message


def test_a_blank_school_year_is_read_from_the_sessions_dates(tmp_path):
    folder = _write(tmp_path / "sis", [("s1", "schoolYear", "2025-08-18", None), ("s2", "term", "2026-01-05", "")])
    assert not check_normalized_source("sis", folder, BULK, "2025-2026").has_errors
    report = check_normalized_source("sis", folder, BULK, "2024-2025")
    assert report.totals("error") == {"academicSessions.school_year": 2}


def test_an_incremental_pull_of_another_years_sessions_alone_is_a_warning(tmp_path):
    # A delta is not the whole set: the year's own sessions are on record.
    folder = _write(tmp_path / "sis", [("term-3600", "schoolYear", "2026-08-17", "2027")])
    report = check_normalized_source("sis", folder, {**BULK, "academic_sessions": "delta"}, "2025-2026")
    assert not report.has_errors and report.totals("warning") == {"academicSessions.school_year": 1}


def test_csv_sources_are_left_to_validation_and_api_sources_are_checked(tmp_path):
    folder = _write(tmp_path / "api", CURRENT)
    extracts = [SourceExtract(source=name, schema="oneroster-1.1", upload_mode="bulk", folder="", archive="",
                              file_modes={}, rows={}, filtered={}, ok=True, kind=kind)
                for name, kind in (("drop", "oneroster_csv"), ("api", "oneroster_api"))]
    normalized = [NormalizedSource(source="drop", upload_mode="bulk", folder=str(tmp_path / "nowhere"),
                                   entity_modes=BULK, rows={}),
                  NormalizedSource(source="api", upload_mode="bulk", folder=str(folder), entity_modes=BULK, rows={})]
    reports = check_school_years(extracts, normalized, "2024-2025")
    assert set(reports) == {"api"} and reports["api"].has_errors
