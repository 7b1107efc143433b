"""Incremental pulls: ``filter=dateLastModified>'<since>'`` on every collection.

The cursor an extract returns is the server's time when the extract began (the ``Date`` of its
first response, less a second because that header is cut to whole seconds), so the next pull
asks for everything changed since then: records changed while this extract ran are read again
next time rather than missed. Without a ``Date`` header the local clock stands in.
"""

from __future__ import annotations

import datetime as dt

SAFETY_MARGIN = dt.timedelta(seconds=1)


def format_time(moment: dt.datetime) -> str:
    """OneRoster's timestamp form: 2026-01-31T08:15:00.000Z."""
    moment = moment.astimezone(dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(value: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def since_from(cursor: dict | None) -> dt.datetime | None:
    """Where an incremental pull starts; None (a full pull) without a usable cursor."""
    return parse_time(cursor.get("since", "")) if cursor else None


def changed_since_filter(since: dt.datetime) -> str:
    return f"dateLastModified>'{format_time(since)}'"


def next_cursor(server_time: dt.datetime | None, local_start: dt.datetime) -> dict:
    start = (server_time or local_start) - SAFETY_MARGIN
    return {"since": format_time(start)}
