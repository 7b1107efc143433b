"""Which runs' notifications have been sent: a claim per run, taken before sending.

A sync run's outcome may be seen by two senders: the ``passport sync`` process that ran it, and the
run-status sensors of a daemon serving the same Dagster instance. Each inserts the run's claim
before sending; the database's primary key lets exactly one of them in. A claim stays taken even
when a target failed (the error is in the sender's log): sending again would repeat the
notification to the targets that did get it.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from passport_pipelines.store import schema
from passport_pipelines.store.golden_store import GoldenStore


class NotificationClaims:
    def __init__(self, store: GoldenStore):
        self.engine = store.engine

    def claim(self, run_id: str, *, event: str, district: str, school_year: str, by: str) -> bool:
        """True when this caller may send the run's notification (nobody claimed it before)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(schema.sync_notifications).values(
                    run_id=run_id, event=event, district=district, school_year=school_year, claimed_by=by,
                    claimed_at=datetime.now(timezone.utc)))
        except IntegrityError:
            return False
        return True
