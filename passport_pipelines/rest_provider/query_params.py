"""The query parameters of a collection request, checked against the collection: ``limit``/``offset``,
``sort``/``orderBy``, ``fields`` and the OneRoster 1.2 ``filter`` grammar.

A filter is predicates ``field<op>'value'`` (ops ``= != > >= < <= ~``; ``~`` is "contains", ignoring
case) joined by `` AND `` and `` OR `` (AND binds tighter); a quote inside a value is doubled.
Fields are the collection's scalar fields, a reference's ``x.sourcedId``, ``status`` and
``dateLastModified`` (compared as moments). Anything else is a 400 naming the parameter and the rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from passport_pipelines.rest_provider.errors import invalid
from passport_pipelines.rest_provider.record_shapes import Shape
from passport_pipelines.rest_provider.snapshot_build import iso_millis

DEFAULT_LIMIT = 100
MAX_LIMIT = 5000
MAX_OFFSET = 10**9
MAX_PREDICATES = 20
_PREDICATE = re.compile(r"\s*([A-Za-z][A-Za-z0-9_.]*)\s*(>=|<=|!=|=|>|<|~)\s*'((?:[^']|'')*)'\s*")
_JOINER = re.compile(r"(AND|OR)(?=\s)")


@dataclass(frozen=True)
class Predicate:
    column: str  # the snapshot table's column
    op: str
    value: str


@dataclass(frozen=True)
class CollectionQuery:
    limit: int
    offset: int
    sort: str | None  # the column
    descending: bool
    fields: list[str] | None  # the JSON fields asked for (None: all)
    filter: list[list[Predicate]]  # OR of ANDs
    with_deleted: bool  # the filter reads dateLastModified: tobedeleted records are answered too


def filterable(shape: Shape) -> dict[str, str]:
    """Filter and sort names -> the snapshot column they read."""
    names = {f.name: f"v_{f.name}" for f in shape.fields if f.value is not None and f.name != "sourcedId"}
    return {"sourcedId": "sourcedId", "status": "status", "dateLastModified": "dateLastModified", **names}


def selectable(shape: Shape) -> list[str]:
    return ["sourcedId", "status", "dateLastModified", *(f.name for f in shape.fields
                                                         if f.in_json and f.name != "sourcedId")]


def _int(params, name: str, default: int, low: int, high: int) -> int:
    text = params.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise invalid("invaliddata", f"{name}={text!r}: not a whole number") from None
    if not low <= value <= high:
        raise invalid("invaliddata", f"{name}={value}: must be between {low} and {high}")
    return value


def parse_query(params, shape: Shape) -> CollectionQuery:
    limit = _int(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _int(params, "offset", 0, 0, MAX_OFFSET)
    names = filterable(shape)
    sort = params.get("sort")
    if sort is not None and sort not in names:
        raise invalid("invalid_sort_field", f"sort={sort!r}: {shape.collection} cannot be sorted on it; "
                                            f"fields: {', '.join(sorted(names))}")
    order = params.get("orderBy", "asc")
    if order not in ("asc", "desc"):
        raise invalid("invaliddata", f"orderBy={order!r}: asc or desc")
    fields = None
    if params.get("fields") is not None:
        fields = [f.strip() for f in params["fields"].split(",") if f.strip()]
        unknown = [f for f in fields if f not in selectable(shape)]
        if unknown or not fields:
            raise invalid("invalid_selection_field", f"fields: unknown field(s) {', '.join(unknown) or '(none given)'} "
                                                     f"of {shape.collection}; fields: {', '.join(selectable(shape))}")
    text = params.get("filter")
    groups = parse_filter(text, names, shape.collection) if text is not None else []
    with_deleted = any(p.column == "dateLastModified" for g in groups for p in g)
    return CollectionQuery(limit, offset, names[sort] if sort else None, order == "desc", fields, groups,
                           with_deleted)


def parse_filter(text: str, names: dict[str, str], collection: str) -> list[list[Predicate]]:
    groups: list[list[Predicate]] = [[]]
    pos, count = 0, 0
    while True:
        m = _PREDICATE.match(text, pos)
        if not m:
            raise invalid("invalid_filter_field", f"filter: cannot read a predicate field<op>'value' at character "
                                                  f"{pos + 1} of {text!r}")
        field, op, value = m.group(1), m.group(2), m.group(3).replace("''", "'")
        if field not in names:
            raise invalid("invalid_filter_field", f"filter: unknown field {field!r} of {collection}; "
                                                  f"fields: {', '.join(sorted(names))}")
        if field == "dateLastModified":
            value = _moment(value)
        count += 1
        if count > MAX_PREDICATES:
            raise invalid("invalid_filter_field", f"filter: at most {MAX_PREDICATES} predicates")
        groups[-1].append(Predicate(names[field], op, value))
        pos = m.end()
        if pos == len(text):
            return groups
        j = _JOINER.match(text, pos)
        if not j:
            raise invalid("invalid_filter_field", f"filter: expected AND or OR at character {pos + 1} of {text!r}")
        if j.group(1) == "OR":
            groups.append([])
        pos = j.end()


def _moment(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise invalid("invalid_filter_field", f"filter: dateLastModified {value!r} is not a date-time like "
                                              "2026-01-31T08:15:00.000Z") from None
    return iso_millis(moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc))
