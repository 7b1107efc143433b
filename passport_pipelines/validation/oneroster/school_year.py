"""A drop of another school year than the sync's is refused, with the file, the line and both years.

Runs when validation is told the sync's school year (``validate_package(..., school_year=...)``)
and the drop has ``academicSessions.csv``; how a session's year is read and which rows are
refused is ``model.school_years``. Findings:

- ``academicSessions.school_year`` (error): the drop's sessions are the complete set (a bulk file)
  and none is of the sync's year: each session of another year is named;
- ``classes.school_year`` (error): a class whose ``termSourcedIds`` name a session of another year;
- ``academicSessions.school_year`` (warning): a session of another year next to the year's own
  (an export that also holds the previous year's sessions); it is kept;
- ``courses.school_year`` (warning): a course whose ``schoolYearSourcedId`` is another year's session;
- ``academicSessions.school_year_convention`` (warning): the drop writes the year a school year
  starts in ``schoolYear``; it was read as the ending year OneRoster means.
"""

from __future__ import annotations

from typing import Callable

import duckdb

from passport_pipelines.model.school_years import Offending, SchoolYear, check_school_year, label_of_ending
from passport_pipelines.validation.oneroster.findings import Finding, FindingsReport, Severity
from passport_pipelines.validation.oneroster.reader import LINE

SESSIONS, CLASSES, COURSES = "academicSessions", "classes", "courses"


def check_drop_school_year(con: duckdb.DuckDBPyConnection, present: list[str], modes: dict[str, str],
                           school_year: str, report: FindingsReport) -> None:
    """Add the findings about rows of another school year than ``school_year`` to ``report``."""
    if SESSIONS not in present:
        return  # no sessions in this drop: its classes point at the sessions on record for the year
    year = SchoolYear.parse(school_year)
    con.execute(f'CREATE OR REPLACE TEMP VIEW _sy_sessions AS SELECT {LINE} AS ref, "sourcedId" AS sourced_id, '
                f'"type" AS type, "startDate" AS start_date, "schoolYear" AS declared FROM {SESSIONS}')
    classes = courses = None
    if CLASSES in present:
        con.execute(f'CREATE OR REPLACE TEMP VIEW _sy_classes AS SELECT {LINE} AS ref, "sourcedId" AS sourced_id, '
                    f'"termSourcedIds" AS term_ids FROM {CLASSES}')
        classes = "_sy_classes"
    if COURSES in present:
        con.execute(f'CREATE OR REPLACE TEMP VIEW _sy_courses AS SELECT {LINE} AS ref, "sourcedId" AS sourced_id, '
                    f'"schoolYearSourcedId" AS school_year_id FROM {COURSES}')
        courses = "_sy_courses"
    found = check_school_year(con, year, sessions="_sy_sessions", classes=classes, courses=courses,
                              complete=modes.get(SESSIONS) == "bulk")
    if found.starting_year_convention is not None:
        report.add(Finding(f"{SESSIONS}.csv", found.starting_year_convention, "schoolYear", None,
                           "academicSessions.school_year_convention", "warning",
                           "schoolYear holds the year each school year starts (e.g. "
                           f"{year.start} for {year.label}); OneRoster's schoolYear is the year it ends "
                           f"({year.end}): the drop was read that way"))
    _add(report, found.wrong_year_sessions, "academicSessions", "sourcedId", "error",
         lambda sid, y: f"session {sid} is of school year {label_of_ending(y)}, not {year.label}, and no session "
                        f"of the drop is of {year.label}: this drop is another year's, nothing is committed (sync "
                        f"it as {label_of_ending(y)}, or give the source the {year.label} drop's location)")
    _add(report, found.other_year_sessions, "academicSessions", "sourcedId", "warning",
         lambda sid, y: f"session {sid} is of school year {label_of_ending(y)}, not {year.label}; kept next to "
                        f"the sessions of {year.label}")
    _add(report, found.classes, "classes", "termSourcedIds", "error",
         lambda sid, y: f"the class is in term {sid} of school year {label_of_ending(y)}, not {year.label}: "
                        "it would be committed as another year's class")
    _add(report, found.courses, "courses", "schoolYearSourcedId", "warning",
         lambda sid, y: f"the course is of school year {label_of_ending(y)} (session {sid}), not {year.label}")


def _add(report: FindingsReport, rows: Offending, file: str, column: str, severity: Severity,
         message: Callable[[str, int], str]) -> None:
    if not rows.total:
        return
    report.add_many([Finding(f"{file}.csv", line, column, session, f"{file}.school_year", severity,
                             message(session, ending))
                     for line, session, ending, _ in rows.rows], rows.total)
