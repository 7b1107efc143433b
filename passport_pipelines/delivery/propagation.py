"""When a version has reached every destination that should have it: the rule behind the status
``successfully in production``, which the CSV deliveries (``delivery/deliveries.py``) and the write-back that
runs after them (``assets/sis_writeback.py``) both settle.

A destination past its ``until`` date receives nothing any more, so it never holds a version back
from production, whether or not its expiry was recorded in this version's history. ``until`` is a day
of the district: its schedule's time zone says when that day is over.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from passport_pipelines.config.integration import Integration
from passport_pipelines.store.golden_store import GoldenStore

# Delivery statuses that mean the destination has the version.
DONE = ("delivered", "unchanged")


def district_day(integration: Integration, now: datetime | None = None) -> date:
    """The day it is for the district at ``now`` (default: now), in its schedule's time zone."""
    return (now or datetime.now(timezone.utc)).astimezone(integration.schedule.zone).date()


def expired(destination, day: date) -> bool:
    """Whether ``destination`` (any kind) is past its ``until`` date on the district's ``day``."""
    return destination.until is not None and day > destination.until


def fully_propagated(store: GoldenStore, integration: Integration, version_id: int, day: date) -> bool:
    """Whether every CSV destination of the integration has the version (a delivery of it ``delivered`` or
    ``unchanged``) or has expired by ``day``. Write-back destinations are not counted here: the write-back
    runs after the deliveries and fails the version itself when one of them fails."""
    have = {d["destination"] for d in store.deliveries(version_id) if d["status"] in DONE}
    return all(d.name in have or expired(d, day) for d in integration.csv_destinations)
