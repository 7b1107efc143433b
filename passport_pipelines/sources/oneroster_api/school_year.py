"""A OneRoster extract restricted to the sync's school year.

OneRoster dates academic sessions only (``schoolYear``: the year the school year ends, ``2026``
for 2025-2026); classes belong to a year through their ``terms``, enrollments through their class.
So an extract of a year:

- asks for that year's sessions: ``filter=schoolYear='2026'`` on ``/academicSessions``, always in
  full (a small collection), also in an incremental pull, because classes are told by them. The
  sessions that come back are kept by their own ``schoolYear`` too (their start date when it is
  blank), so a provider that ignores the filter is still restricted; one that refuses it (a 400)
  is asked again without it;
- keeps the classes with a term among those sessions (a class without terms is kept: nothing says
  it is another year's) and leaves out the enrollments of the classes it left out;
- keeps the courses of the year: without a ``schoolYear``, of one of the year's sessions, or the
  course of a class it kept (a catalog course serves many years). In an incremental pull courses
  are not restricted: the classes that use them may not be in the pull;
- keeps the line items of the classes it kept (a line item without a class is kept), the results of
  those line items, and reads the resources of the classes and courses it kept;
- reads orgs, users and demographics whole: OneRoster gives them no school year, so they are the
  provider's current ones. Categories, score scales and resources too.

Classes are read before courses, and line items before results, for that reason (``connector._reads``).

``summary`` says in one sentence what was restricted and how: it goes into the run's metadata.
"""

from __future__ import annotations

import datetime as dt
import re

from passport_pipelines.model.school_years import SchoolYear

YEAR = re.compile(r"^\d{4}$")


def _ref_id(value) -> str | None:
    return value.get("sourcedId") if isinstance(value, dict) else None


def session_ending_year(record: dict) -> int | None:
    """A session's school year as its ending year: ``schoolYear``, else from its start date."""
    declared = str(record.get("schoolYear") or "").strip()
    if YEAR.match(declared):
        return int(declared)
    try:
        start = dt.date.fromisoformat(str(record.get("startDate") or "")[:10])
    except ValueError:
        return None
    return start.year + 1 if start.month >= 7 else start.year


class YearScope:
    """What one extract keeps of each collection; its sets fill as the collections are read, in
    order (sessions, then classes, then enrollments). Called under each sink's lock."""

    def __init__(self, school_year: str, *, incremental: bool = False):
        self.year = SchoolYear.parse(school_year)
        self.incremental = incremental
        self.sessions: set[str] = set()  # the year's sessions
        self.other_classes: set[str] = set()  # classes left out: in terms of other years
        self.class_courses: set[str] = set()  # the courses of the classes kept
        self.classes: set[str] = set()  # the classes kept
        self.courses: set[str] = set()  # the courses kept
        self.other_line_items: set[str] = set()  # line items left out: of classes of other years
        self.asked_server = True  # False once the provider refused the filter
        self.left_out: dict[str, int] = {}

    def session_filter(self) -> str:
        return f"schoolYear='{self.year.end}'"

    def keep_session(self, record: dict) -> bool:
        if session_ending_year(record) != self.year.end:
            return False
        self.sessions.add(record["sourcedId"])
        return True

    def keep_class(self, record: dict) -> bool:
        terms = [t for t in (_ref_id(t) for t in record.get("terms") or []) if t]
        if not terms or any(t in self.sessions for t in terms):
            self.class_courses.add(_ref_id(record.get("course")))
            self.classes.add(record["sourcedId"])
            return True
        self.other_classes.add(record["sourcedId"])
        return False

    def keep_course(self, record: dict) -> bool:
        year = _ref_id(record.get("schoolYear"))
        kept = (self.incremental or year is None or year in self.sessions
                or record["sourcedId"] in self.class_courses)
        if kept:
            self.courses.add(record["sourcedId"])
        return kept

    def keep_enrollment(self, record: dict) -> bool:
        return _ref_id(record.get("class")) not in self.other_classes

    def keep_line_item(self, record: dict) -> bool:
        if _ref_id(record.get("class")) in self.other_classes:
            self.other_line_items.add(record["sourcedId"])
            return False
        return True

    def keep_result(self, record: dict) -> bool:
        return _ref_id(record.get("lineItem")) not in self.other_line_items

    def summary(self) -> str:
        how = (f"academic sessions asked with filter={self.session_filter()}" if self.asked_server else
               "academic sessions read in full (the provider refused filter="
               f"{self.session_filter()}) and kept by their schoolYear")
        out = ", ".join(f"{n} {what}" for what, n in self.left_out.items() if n) or "nothing"
        courses = "courses of those sessions and classes, " if not self.incremental else ""
        return (f"restricted to {self.year.label}: {how}; classes in their terms, {courses}the enrollments, line items "
                f"and results of those classes (left out of other years: {out}); orgs, users and demographics"
                f"{'' if courses else ', courses'} not restricted (OneRoster gives them no school year)")
