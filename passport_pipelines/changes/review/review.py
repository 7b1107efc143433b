"""A version's changes, record by record: the entry point of ``passport changes`` and of the held
sync's check."""

from __future__ import annotations

from passport_pipelines.changes.review.committed import NOTE, committed_records
from passport_pipelines.changes.review.held import held_records
from passport_pipelines.changes.review.records import DEFAULT_LIMIT, ChangeReview
from passport_pipelines.model import entities
from passport_pipelines.store.golden_store import GoldenStore, Version
from passport_pipelines.store.version_status import AWAITING, COMMITTED, REJECTED


class ReviewUnavailable(ValueError):
    """The version's changes cannot be listed (rejected: its change set is gone; or an unknown entity)."""


def review_version(store: GoldenStore, version: Version, *, entity: str | None = None, limit: int = DEFAULT_LIMIT,
                   show_values: bool = False) -> ChangeReview:
    """The version's totals and its first ``limit`` changed records (0: all), personal values masked
    unless ``show_values``."""
    if entity is not None and entity not in entities.ENTITIES:
        raise ReviewUnavailable(f"unknown entity {entity!r}; one of {', '.join(entities.ENTITIES)}")
    names = [e for e in entities.ENTITIES if (entity is None or e == entity) and any((version.changes.get(e) or {})
                                                                                      .values())]
    totals = {e: dict(version.changes[e]) for e in names}
    note = None
    if version.status in AWAITING:
        if not version.held_changes:
            raise ReviewUnavailable(f"version {version.number} is {version.status} but its change set is not on "
                                    "record")
        basis = "held change set (old values from the golden store)"
        records = held_records(store, version, names, limit, show_values)
    elif version.status in COMMITTED:
        basis = "golden store (record_changes and golden tables)"
        records = committed_records(store, version, names, limit, show_values)
        note = NOTE if any(r.change == "updated" for r in records) else None
    elif version.status == REJECTED:
        raise ReviewUnavailable(f"version {version.number} was rejected ({version.decided_by or 'by a person'}): its "
                                "change set was discarded and nothing of it is on record")
    else:
        raise ReviewUnavailable(f"version {version.number} is {version.status}: nothing to review")
    return ChangeReview(district=version.district, school_year=version.school_year, version=version.number,
                        status=version.status, basis=basis, totals=totals, records=records, limit=limit,
                        values_shown=show_values, note=note)
