"""School years, and which school year a roster's academic sessions belong to.

A school year is written ``YYYY-YYYY`` (``2024-2025``): the partition key of a sync, and what
every canonical row carries. OneRoster's ``schoolYear`` is a single year, the year the school
year ENDS: ``2025`` for 2024-2025 (the OneRoster 1.1/1.2 data model: "This year should include
the school year end e.g. 2014"). A session's school year is read like this:

1. its ``schoolYear`` value, as the ending year;
2. blank (or not a four-digit year): its start date, a school year running from July 1 to June 30;
3. some exporters write the year a school year STARTS (``2024`` for 2024-2025). That is told by
   the drop's ``schoolYear``-type sessions: when every one of them carries the year before the one
   its dates end in, the whole drop is read that way (every value plus one), and the caller warns.
   Only ``schoolYear``-type sessions decide, because their dates always span the year; a summer
   term that starts in July says nothing about the convention.

``check_school_year`` applies the policy for a roster of one sync (see its docstring). It runs as
DuckDB queries over whole tables, whatever their size, and returns the first offending rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import duckdb

SCHOOL_YEAR = re.compile(r"^(\d{4})-(\d{4})$")
SAMPLE = 100  # offending rows kept per kind, as validation findings keep them


@dataclass(frozen=True, order=True)
class SchoolYear:
    start: int
    end: int

    @classmethod
    def parse(cls, label: str) -> "SchoolYear":
        m = SCHOOL_YEAR.match(str(label))
        if not m or int(m.group(2)) != int(m.group(1)) + 1:
            raise ValueError(f"{label!r} is not a school year like 2025-2026")
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def ending(cls, year: int) -> "SchoolYear":
        """The school year that ends in ``year`` (OneRoster's ``schoolYear``)."""
        return cls(year - 1, year)

    @property
    def label(self) -> str:
        return f"{self.start}-{self.end}"

    def __str__(self) -> str:
        return self.label


def label_of_ending(year: int | None) -> str:
    return SchoolYear.ending(year).label if year is not None else "an unknown school year"


# The ending year of the school year a date falls in (July 1 starts a school year).
_DATE_YEAR = "CASE WHEN month({d}) >= 7 THEN year({d}) + 1 ELSE year({d}) END"


@dataclass
class Offending:
    """Rows of one kind that belong to another school year: the first ones, and how many in all."""

    total: int = 0
    # (row reference: a line for CSV files, a sourced id for canonical tables; the session id;
    # the session's ending year; the row's own id)
    rows: list[tuple] = field(default_factory=list)


@dataclass
class SchoolYearCheck:
    """What ``check_school_year`` found for one roster."""

    year: SchoolYear
    sessions: int = 0  # sessions in the roster
    sessions_of_year: int = 0  # of them, sessions of the sync's school year
    starting_year_convention: int | None = None  # the line/id of a schoolYear session read that way
    wrong_year_sessions: Offending = field(default_factory=Offending)  # refused: no session is of the year
    other_year_sessions: Offending = field(default_factory=Offending)  # reported only
    classes: Offending = field(default_factory=Offending)  # classes in terms of another year: refused
    courses: Offending = field(default_factory=Offending)  # courses of another year's session: reported


def check_school_year(con: duckdb.DuckDBPyConnection, year: SchoolYear, *, sessions: str, classes: str | None = None,
                      courses: str | None = None, complete: bool = True) -> SchoolYearCheck:
    """Which rows of a roster belong to another school year than ``year``.

    The relations are views with these columns (the callers map their own names onto them):
    ``sessions(ref, sourced_id, type, start_date, declared)``, ``classes(ref, sourced_id,
    term_ids)`` (a comma-joined list), ``courses(ref, sourced_id, school_year_id)``.

    The policy, since real exports hold more than one year (some SIS exports include the
    previous year's sessions):

    - when the sessions are the complete set (``complete``: a bulk file, a full API pull), none
      of them is of ``year`` and some are of another year, the roster is another year's: every
      such session is in ``wrong_year_sessions`` (refused);
    - a class whose terms include a session of another year would be committed as this year's:
      in ``classes`` (refused);
    - other sessions of another year (next to sessions of ``year``) are ``other_year_sessions``,
      and courses whose school year is another year's session are ``courses``: reported only.
    """
    result = SchoolYearCheck(year)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _session_years AS
        WITH s AS (
            SELECT ref, sourced_id, type,
                   CASE WHEN regexp_full_match(trim(declared), '\\d{{4}}') THEN CAST(trim(declared) AS INTEGER)
                   END AS declared,
                   {_DATE_YEAR.format(d="try_cast(or_date(start_date) AS DATE)")} AS dated
            FROM {sessions}
        ), shift AS (
            SELECT CASE WHEN count(*) > 0 AND bool_and(declared = dated - 1) THEN 1 ELSE 0 END AS n,
                   min(ref) AS first_ref
            FROM s WHERE lower(type) = 'schoolyear' AND declared IS NOT NULL AND dated IS NOT NULL
        )
        SELECT s.ref, s.sourced_id, coalesce(s.declared + shift.n, s.dated) AS ending_year, shift.n AS shifted,
               shift.first_ref
        FROM s, shift""")
    result.sessions, result.sessions_of_year, shifted, first_ref = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE ending_year = ?), max(shifted), min(first_ref) FROM _session_years",
        [year.end]).fetchone()
    if shifted:
        result.starting_year_convention = first_ref
    refused = complete and result.sessions_of_year == 0
    target = result.wrong_year_sessions if refused else result.other_year_sessions
    _collect(con, target, "SELECT ref, sourced_id, ending_year, sourced_id FROM _session_years WHERE ending_year <> ?",
             [year.end])
    if classes is not None:
        _collect(con, result.classes, f"""
            SELECT c.ref, y.sourced_id, y.ending_year, c.sourced_id
            FROM (SELECT ref, sourced_id, unnest(string_split(or_list(term_ids), ',')) AS term FROM {classes}
                  WHERE term_ids IS NOT NULL) AS c
            JOIN _session_years AS y ON y.sourced_id = c.term
            WHERE y.ending_year <> ?
            QUALIFY row_number() OVER (PARTITION BY c.ref ORDER BY y.sourced_id) = 1""", [year.end])
    if courses is not None:
        _collect(con, result.courses, f"""
            SELECT c.ref, y.sourced_id, y.ending_year, c.sourced_id FROM {courses} AS c
            JOIN _session_years AS y ON y.sourced_id = c.school_year_id
            WHERE y.ending_year <> ?""", [year.end])
    con.execute("DROP TABLE _session_years")
    return result


def _collect(con: duckdb.DuckDBPyConnection, into: Offending, query: str, params: list) -> None:
    into.total = con.execute(f"SELECT count(*) FROM ({query})", params).fetchone()[0]
    if into.total:
        into.rows = con.execute(f"SELECT * FROM ({query}) ORDER BY 1 LIMIT {SAMPLE}", params).fetchall()
