"""Versions a crash left half-way: committed, but their delivery never ran to its end.

A version is ``pending propagation`` from its commit until its deliveries are done, in the same
run. If that run ended without settling it (its process was killed between commit and delivery),
the history would say "pending" for good. The next sync of the partition marks such versions
``propagation failed``: true, visible in ``passport history``, and picked up by ``retry_deliveries``
(the next sync's own version delivers the data anyway).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import dagster as dg

from passport_pipelines.store.golden_store import GoldenStore
from passport_pipelines.store.version_status import PENDING_PROPAGATION, PROPAGATION_FAILED

UNKNOWN_RUN_GRACE = timedelta(hours=1)


def _older_than(at: datetime | None, age: timedelta) -> bool:
    if at is None:
        return True
    at = at if at.tzinfo else at.replace(tzinfo=timezone.utc)  # SQLite gives naive UTC
    return datetime.now(timezone.utc) - at > age


def settle_stuck_versions(store: GoldenStore, instance: dg.DagsterInstance, district: str,
                          school_year: str) -> list[int]:
    """Mark ``propagation failed`` the partition's pending versions whose run has ended; their numbers."""
    settled = []
    for version in store.versions(district, school_year):
        if version.status != PENDING_PROPAGATION:
            continue
        run = instance.get_run_by_id(version.run_id) if version.run_id else None
        if run is None and not _older_than(version.committed_at, UNKNOWN_RUN_GRACE):
            continue  # a run this instance does not know may still be delivering elsewhere
        if run is None or run.is_finished:
            store.set_status(version.id, PROPAGATION_FAILED)
            settled.append(version.number)
    return settled
