"""An API source's roster of another school year than the sync's is refused, as a CSV drop is.

CSV drops are checked by validation, with the file and line (``validation/oneroster/school_year.py``).
An API source is checked after normalization, on its canonical tables: ``academic_sessions``
(``ending_year`` is OneRoster's ``schoolYear``, the year the school year ends), ``classes`` (their
``term_sourced_ids``) and ``courses`` (``school_year_sourced_id``), by the same policy
(``model.school_years.check_school_year``): a source whose sessions, read in full, hold none of
the sync's year, or whose classes are in terms of another year, fails the check; other sessions
and courses of another year are warnings. Findings name the source, the record, the session and
both years; they are run metadata, so they carry ids only, never personal data.

A connector that asks its API for the sync's year (see docs/connectors.md) never trips this
check; it is what catches a provider that ignores the question, or a source that cannot ask it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from passport_pipelines.model.school_years import Offending, SchoolYear, check_school_year, label_of_ending
from passport_pipelines.normalize.rosters import NormalizedSource
from passport_pipelines.sql.engine import connect
from passport_pipelines.sql.quoting import lit
from passport_pipelines.validation.extract import SourceExtract
from passport_pipelines.validation.oneroster.findings import Finding, FindingsReport, Severity
from passport_pipelines.validation.schemas.registry import CSV_KINDS


def check_school_years(extracts: Iterable[SourceExtract], normalized: Iterable[NormalizedSource],
                       school_year: str) -> dict[str, FindingsReport]:
    """The findings of every API source (``extracts`` and ``normalized`` are the stages' outputs,
    one entry per source); CSV sources are left to validation."""
    kinds = {e.source: e.kind for e in extracts}
    reports = {}
    for result in normalized:
        if kinds.get(result.source) in CSV_KINDS:
            continue
        reports[result.source] = check_normalized_source(result.source, Path(result.folder),
                                                         result.entity_modes, school_year)
    return reports


def check_normalized_source(source: str, folder: Path, entity_modes: dict[str, str],
                            school_year: str) -> FindingsReport:
    """The findings of one source's canonical tables in ``folder``."""
    report = FindingsReport()
    sessions = folder / "academic_sessions.parquet"
    if not sessions.exists():
        return report
    year = SchoolYear.parse(school_year)
    con = connect()
    try:
        con.execute("CREATE TEMP VIEW _sy_sessions AS SELECT sourced_id AS ref, sourced_id, type, start_date, "
                    f"ending_year AS declared FROM read_parquet({lit(str(sessions))})")
        views = {}
        for entity, columns in (("classes", "term_sourced_ids AS term_ids"),
                                ("courses", "school_year_sourced_id AS school_year_id")):
            path = folder / f"{entity}.parquet"
            if path.exists():
                con.execute(f"CREATE TEMP VIEW _sy_{entity} AS SELECT sourced_id AS ref, sourced_id, {columns} "
                            f"FROM read_parquet({lit(str(path))})")
                views[entity] = f"_sy_{entity}"
        found = check_school_year(con, year, sessions="_sy_sessions", classes=views.get("classes"),
                                  courses=views.get("courses"),
                                  complete=entity_modes.get("academic_sessions") == "bulk")
    finally:
        con.close()
    _add(report, found.wrong_year_sessions, "academic_sessions", "academicSessions.school_year", "error",
         lambda own, session, y: f"session {session} of source {source} is of school year {label_of_ending(y)}, "
                                 f"not {year.label}, and none of its sessions is of {year.label}: the source "
                                 "answered with another year's roster; nothing is committed")
    _add(report, found.other_year_sessions, "academic_sessions", "academicSessions.school_year", "warning",
         lambda own, session, y: f"session {session} of source {source} is of school year {label_of_ending(y)}, "
                                 f"not {year.label}; kept next to the sessions of {year.label}")
    _add(report, found.classes, "classes", "classes.school_year", "error",
         lambda own, session, y: f"class {own} of source {source} is in term {session} of school year "
                                 f"{label_of_ending(y)}, not {year.label}: it would be committed as another "
                                 "year's class")
    _add(report, found.courses, "courses", "courses.school_year", "warning",
         lambda own, session, y: f"course {own} of source {source} is of school year {label_of_ending(y)} "
                                 f"(session {session}), not {year.label}")
    return report


def _add(report: FindingsReport, rows: Offending, entity: str, rule: str, severity: Severity,
         message: Callable[[str, str, int], str]) -> None:
    if rows.total:
        report.add_many([Finding(entity, None, "sourced_id", own, rule, severity, message(own, session, ending))
                         for _, session, ending, own in rows.rows], rows.total)
