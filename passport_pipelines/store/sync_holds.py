"""Held versions in the golden store: recorded when a sync is held, approved or rejected by a person.

A held version gets the next version number and its change counts, but none of its records are
written: the golden store stays as it was. ``held_changes`` says where its change set waits
(``changes/held_changes.py``). Approving marks it ``approved``; the commit run then applies it
(``GoldenStore.commit(approved_version_id=...)``). Rejecting discards it.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select, update

from passport_pipelines.config.decided_by import who_decides
from passport_pipelines.store import schema
from passport_pipelines.store.arrow_connection import ArrowConnection
from passport_pipelines.store.golden_store import CommitInfo, GoldenStore, Version, version_of_row
from passport_pipelines.store.version_status import APPROVED, HELD, REJECTED


class DecisionError(ValueError):
    """The version cannot be approved or rejected (unknown, or not held)."""


class SyncHolds:
    def __init__(self, store: GoldenStore):
        self.store = store
        self.engine = store.engine

    def hold(self, info: CommitInfo, counts: dict, hold: dict, held_changes: dict) -> Version:
        """Record a held version: number, counts and why; nothing of its records."""
        now = datetime.now(timezone.utc)
        with ArrowConnection(self.store.url) as ac, ac.transaction():
            number = self.store.check_base(ac, info.district, info.school_year, info.base_version_id)
            version_id = self.store.insert_version(ac, info, number, HELD, now, counts, hold=hold,
                                                    held_changes=held_changes)
            self.store.supersede_awaiting(ac, info, keep=version_id, number=number)
        return self.store.version(version_id)

    def find(self, district: str, school_year: str, number: int) -> Version:
        v = schema.versions
        with self.engine.connect() as conn:
            row = conn.execute(select(v).where(v.c.district == district, v.c.school_year == school_year,
                                               v.c.number == number)).mappings().first()
        if row is None:
            raise DecisionError(f"{district} {school_year} has no version {number} (see passport history {district})")
        return version_of_row(row)

    def decide(self, district: str, school_year: str, number: int, *, approve: bool, by: str) -> Version:
        """Approve or reject a held version. Only a held one: a decision is never taken twice."""
        try:
            by = who_decides(by)
        except ValueError as exc:
            raise DecisionError(f"by: {exc}") from None
        version = self.find(district, school_year, number)
        v = schema.versions
        values = {"status": APPROVED if approve else REJECTED, "decided_by": by,
                  "decided_at": datetime.now(timezone.utc)}
        if not approve:
            values["held_changes"] = None
        with self.engine.begin() as conn:
            done = conn.execute(update(v).where(v.c.id == version.id, v.c.status == HELD).values(**values)).rowcount
        if not done:
            raise DecisionError(f"{district} {school_year} version {number} is {version.status}, not held: "
                                "only a held version is approved or rejected")
        return self.store.version(version.id)

    def with_status(self, status: str) -> list[Version]:
        """Every version in this status, oldest first (the approval sensor reads ``approved``)."""
        v = schema.versions
        with self.engine.connect() as conn:
            rows = conn.execute(select(v).where(v.c.status == status).order_by(v.c.id)).mappings().all()
        return [version_of_row(r) for r in rows]

    def awaiting(self, district: str, school_year: str) -> list[Version]:
        """Versions of the district's year held or approved and not yet committed."""
        v = schema.versions
        with self.engine.connect() as conn:
            rows = conn.execute(select(v).where(v.c.district == district, v.c.school_year == school_year,
                                                v.c.status.in_((HELD, APPROVED))).order_by(v.c.number)
                                ).mappings().all()
        return [version_of_row(r) for r in rows]

    def for_run(self, run_id: str) -> Version | None:
        """The version a run made (held or committed), if any."""
        v = schema.versions
        with self.engine.connect() as conn:
            row = conn.execute(select(v).where(v.c.run_id == run_id).order_by(v.c.id.desc()).limit(1)
                               ).mappings().first()
        return version_of_row(row) if row else None
