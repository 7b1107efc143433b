"""PowerSchool's response envelopes, unwrapped into plain lists of records.

A collection arrives as ``{"students": {"@expansions": "...", "student": [...]}}``. PowerSchool
serializes through XML conventions, so a page holding exactly one record carries it as an
object (``"student": {...}``), and an empty result comes as ``{"students": ""}``, as
``{"students": null}`` or with the inner key missing. Counts come as
``{"resource": {"count": 423}}``. The schema API (``/ws/schema/table/{table}``) answers
``{"name": table, "record": [{"id", "name", "tables": {table: {field: "text"}}}]}`` (the list left out
when empty) and counts as ``{"count": 423}``. Anything else is not the documented response.
"""

from __future__ import annotations

from typing import Any

from passport_pipelines.sources.errors import ConnectorError
from passport_pipelines.sources.xml_envelopes import as_list, unwrap


def records(body: Any, plural: str, singular: str, where: str) -> list[dict]:
    """The records of a ``/ws/v1`` collection page."""
    return unwrap(body, plural, singular, where)


def count(body: Any, where: str) -> int:
    """The number in a ``/count`` response."""
    try:
        value = body["resource"]["count"]
        return int(value)
    except (KeyError, TypeError, ValueError):
        raise ConnectorError("bad_response", where, "no resource.count in the count response") from None


def single(body: Any, key: str, where: str) -> dict:
    """A single resource such as ``{"district": {...}}`` or ``{"metadata": {...}}``."""
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, dict):
        raise ConnectorError("bad_response", where, f"no {key!r} object in the response")
    return value


def contacts(body: Any, where: str) -> list[dict]:
    """``/ws/contacts/student/{dcid}`` answers a JSON array of contacts (one object if only one)."""
    found = as_list(body)
    if not all(isinstance(c, dict) and "contactId" in c for c in found):
        raise ConnectorError("bad_response", where, "a contact without contactId")
    return found


def table_records(body: Any, where: str) -> list[dict]:
    """The records of a ``/ws/schema/table`` page, as received (each with its ``tables`` object)."""
    if not isinstance(body, dict):
        raise ConnectorError("bad_response", where, "not a schema table response")
    found = as_list(body.get("record"))
    if not all(isinstance(r, dict) and isinstance(r.get("tables"), dict) for r in found):
        raise ConnectorError("bad_response", where, "a table record without its tables object")
    return found


def table_count(body: Any, where: str) -> int:
    """The number in a ``/ws/schema/table/{table}/count`` response."""
    try:
        return int(body["count"])
    except (KeyError, TypeError, ValueError):
        raise ConnectorError("bad_response", where, "no count in the table count response") from None
