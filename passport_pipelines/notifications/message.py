"""The notification of one finished, held or failed sync: a small JSON-serializable dict.

It carries ids and counts only (district, school year, version, run, per-entity change counts, why a
sync was held, which step failed): a webhook receiver or a mailbox is outside the hub, so no student
data and no secret may ever be part of it.

```json
{"event": "held", "district": "lakeside", "school_year": "2025-2026", "version": 2, "status": "held",
 "run_id": "…", "job": "roster_sync", "changes": {"users": {"added": 0, "updated": 0, "deleted": 24}},
 "reasons": ["users: 24 of 52 on record deleted …"], "error": null, "started_by": "schedule:district_syncs",
 "at": "2025-09-02T06:01:13+00:00"}
```
"""

from __future__ import annotations

from datetime import datetime, timezone

from passport_pipelines.notifications.run_failure import RunError
from passport_pipelines.store.golden_store import Version

FINISHED = "finished"
HELD = "held"
FAILED = "failed"

# The only keys copied from a version's change counts: its other fields could grow to hold more
# than counts, and nothing but numbers may leave the hub.
_COUNT_KEYS = ("added", "updated", "deleted")


def build_message(event: str, *, district: str, school_year: str, run_id: str, job: str, started_by: str,
                  at: datetime | None = None, version: Version | None = None,
                  error: RunError | None = None) -> dict:
    """The body every target receives. All keys are always present (``null`` or empty when they do
    not apply) so receivers can rely on one shape."""
    if event not in (FINISHED, HELD, FAILED):
        raise ValueError(f"unknown notification event {event!r}")
    if version is not None:
        status = version.status
    else:
        status = FAILED if event == FAILED else None
    return {
        "event": event,
        "district": district,
        "school_year": school_year,
        "version": version.number if version else None,
        "status": status,
        "run_id": run_id,
        "job": job,
        "changes": change_counts(version.changes) if version else {},
        "reasons": hold_reasons(version) if event == HELD and version else [],
        "error": error.as_dict() if event == FAILED and error else None,
        "started_by": started_by,
        "at": (at or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="seconds"),
    }


def change_counts(changes: dict | None) -> dict[str, dict[str, int]]:
    """Per entity: added, updated, deleted, as plain integers."""
    counts: dict[str, dict[str, int]] = {}
    for entity, entry in (changes or {}).items():
        if isinstance(entry, dict):
            counts[str(entity)] = {k: int(entry[k]) for k in _COUNT_KEYS if k in entry}
    return counts


def hold_reasons(version: Version) -> list[str]:
    """Why the sync was held, as the sync_hold check wrote it (numbers per entity, or the preview)."""
    return [str(r) for r in (version.hold or {}).get("reasons", [])]


def headline(message: dict) -> str:
    """One line for a subject or a log: ``lakeside 2025-2026: held (version 2)``."""
    text = f"{message['district']} {message['school_year']}: {message['event']}"
    if message.get("version") is not None:
        text += f" (version {message['version']})"
    return text
