"""JSON mapped from XML, as PowerSchool and xPress (SIF) serialize it: a collection is
``{"<plural>": {"<singular>": [...]}}``, where one record comes as an object rather than a
one-element list, and an empty collection as ``""``, ``null``, ``{}`` or without the inner key."""

from __future__ import annotations

from typing import Any

from passport_pipelines.sources.errors import ConnectorError


def as_list(value: Any) -> list:
    """One-or-many: a list as is, one object as a one-element list, blanks as []."""
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def unwrap(body: Any, plural: str, singular: str, where: str) -> list[dict]:
    """The records of one page; anything but the documented envelope is a bad response."""
    if not isinstance(body, dict) or plural not in body:
        raise ConnectorError("bad_response", where, f"no {plural!r} envelope in the response")
    inner = body[plural]
    if inner is None or inner == "":
        return []
    if not isinstance(inner, dict):
        raise ConnectorError("bad_response", where, f"{plural!r} is neither an object nor blank")
    found = as_list(inner.get(singular))
    if not all(isinstance(r, dict) for r in found):
        raise ConnectorError("bad_response", where, f"a {singular!r} record is not an object")
    return found
