"""xPress response envelopes: ``{"xStudents": {"xStudent": [...]}}``, where a collection of one may
come as a single object rather than a one-element list (JSON mapped from SIF's XML), and an empty
collection as ``{"xStudents": {}}``, ``{"xStudents": null}`` or no body at all (204)."""

from __future__ import annotations

from typing import Any

from passport_pipelines.connectors.errors import ConnectorError

# collection (path segment) -> the element name of one record
OBJECTS: dict[str, str] = {
    "xLeas": "xLea", "xSchools": "xSchool", "xCalendars": "xCalendar", "xCourses": "xCourse",
    "xRosters": "xRoster", "xStaffs": "xStaff", "xStudents": "xStudent", "xContacts": "xContact",
}


def as_list(value: Any) -> list:
    """A JSON value that may be a list, a single object or absent, as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def records(collection: str, body: Any, where: str) -> list[dict]:
    """The records of one page of ``collection``; raises bad_response on another shape."""
    if body is None or body == "":
        return []
    if not isinstance(body, dict) or collection not in body:
        raise ConnectorError("bad_response", where, f"expected a {collection} envelope")
    inner = body[collection]
    if inner is None or inner == "":
        return []
    if not isinstance(inner, dict):
        raise ConnectorError("bad_response", where, f"{collection} is not an object")
    found = as_list(inner.get(OBJECTS[collection]))
    if any(not isinstance(r, dict) or not r.get("refId") for r in found):
        raise ConnectorError("bad_response", where, f"a {OBJECTS[collection]} without a refId")
    return found
