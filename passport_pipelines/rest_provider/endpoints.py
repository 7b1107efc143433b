"""The endpoints of the rostering service under its root, the scope each needs, and the condition a
nested endpoint puts on its collection's snapshot table.

Collections: orgs, schools, academicSessions, terms, gradingPeriods, courses, classes, users, students,
teachers, enrollments, demographics, each also ``/{sourcedId}``. Nested (``/<parent>/{id}/<collection>``):
see ``NESTED``; and ``/schools/{id}/classes/{id}/enrollments|students|teachers``.
"""

from __future__ import annotations

from dataclasses import dataclass

CORE, ROSTER, DEMOGRAPHICS = "roster-core.readonly", "roster.readonly", "roster-demographics.readonly"
COLLECTIONS = ("orgs", "schools", "academicSessions", "terms", "gradingPeriods", "courses", "classes", "users",
               "students", "teachers", "enrollments", "demographics")

_IN_CLASS = ('"sourcedId" IN (SELECT "v_user.sourcedId" FROM enrollments WHERE "v_class.sourcedId" = ? '
             "AND status = 'active')")
_CLASSES_OF_USER = ('"sourcedId" IN (SELECT "v_class.sourcedId" FROM enrollments WHERE "v_user.sourcedId" = ? '
                    "AND status = 'active')")

# (parent, child) -> (the child's table, SQL condition on it given the parent's id, other tables it reads)
NESTED: dict[tuple[str, str], tuple[str, str, tuple[str, ...]]] = {
    ("schools", "classes"): ("classes", '"v_school.sourcedId" = ?', ()),
    ("schools", "enrollments"): ("enrollments", '"v_school.sourcedId" = ?', ()),
    ("schools", "courses"): ("courses", '"v_org.sourcedId" = ?', ()),
    ("schools", "students"): ("students", 'list_contains("k_orgs", ?)', ()),
    ("schools", "teachers"): ("teachers", 'list_contains("k_orgs", ?)', ()),
    ("schools", "terms"): ("terms", "? IS NOT NULL", ()),  # sessions are the district's, every school's
    ("classes", "students"): ("students", _IN_CLASS, ("enrollments",)),
    ("classes", "teachers"): ("teachers", _IN_CLASS, ("enrollments",)),
    ("courses", "classes"): ("classes", '"v_course.sourcedId" = ?', ()),
    ("terms", "classes"): ("classes", 'list_contains("k_terms", ?)', ()),
    ("terms", "gradingPeriods"): ("gradingPeriods", '"v_parent.sourcedId" = ?', ()),
    ("users", "classes"): ("classes", _CLASSES_OF_USER, ("enrollments",)),
    ("students", "classes"): ("classes", _CLASSES_OF_USER, ("enrollments",)),
    ("teachers", "classes"): ("classes", _CLASSES_OF_USER, ("enrollments",)),
}
# /schools/{school}/classes/{class}/<child>
IN_SCHOOL_CLASS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "enrollments": ("enrollments", '"v_class.sourcedId" = ?', ()),
    "students": ("students", _IN_CLASS, ("enrollments",)),
    "teachers": ("teachers", _IN_CLASS, ("enrollments",)),
}


def scopes_for(collection: str) -> frozenset[str]:
    """Any one of these scopes lets a token read the collection."""
    return frozenset({ROSTER, DEMOGRAPHICS} if collection == "demographics" else {CORE, ROSTER})


@dataclass(frozen=True)
class Target:
    """What a path asks for: a collection, one record of it, or a collection under parent records."""

    collection: str
    sourced_id: str | None = None  # one record
    parents: tuple[tuple[str, str], ...] = ()  # (collection, id) that must exist, outermost first
    condition: tuple[str, str] | None = None  # SQL condition and its parameter
    reads: tuple[str, ...] = ()  # other tables the condition reads


def resolve(path: str) -> Target | None:
    parts = path.split("/")
    if any(p == "" for p in parts):
        return None
    if len(parts) == 1 and parts[0] in COLLECTIONS:
        return Target(parts[0])
    if len(parts) == 2 and parts[0] in COLLECTIONS:
        return Target(parts[0], sourced_id=parts[1])
    if len(parts) == 3 and (parts[0], parts[2]) in NESTED:
        table, sql, reads = NESTED[(parts[0], parts[2])]
        return Target(table, parents=((parts[0], parts[1]),), condition=(sql, parts[1]), reads=reads)
    if len(parts) == 5 and parts[0] == "schools" and parts[2] == "classes" and parts[4] in IN_SCHOOL_CLASS:
        table, sql, reads = IN_SCHOOL_CLASS[parts[4]]
        return Target(table, parents=(("schools", parts[1]), ("classes", parts[3])), condition=(sql, parts[3]),
                      reads=reads)
    return None
