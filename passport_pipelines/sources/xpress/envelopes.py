"""xPress response envelopes: ``{"xStudents": {"xStudent": [...]}}``, where a collection of one may
come as a single object rather than a one-element list (JSON mapped from SIF's XML), and an empty
collection as ``{"xStudents": {}}``, ``{"xStudents": null}`` or no body at all (204)."""

from __future__ import annotations

from typing import Any

from passport_pipelines.sources.errors import ConnectorError
from passport_pipelines.sources.xml_envelopes import unwrap

# collection (path segment) -> the element name of one record
OBJECTS: dict[str, str] = {
    "xLeas": "xLea", "xSchools": "xSchool", "xCalendars": "xCalendar", "xCourses": "xCourse",
    "xRosters": "xRoster", "xStaffs": "xStaff", "xStudents": "xStudent", "xContacts": "xContact",
}


def records(collection: str, body: Any, where: str) -> list[dict]:
    """The records of one page of ``collection``; raises bad_response on another shape."""
    if body is None or body == "":
        return []  # 204 No Content: an empty page
    found = unwrap(body, collection, OBJECTS[collection], where)
    if any(not r.get("refId") for r in found):
        raise ConnectorError("bad_response", where, f"a {OBJECTS[collection]} without a refId")
    return found
