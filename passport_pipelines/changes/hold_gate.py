"""The gates a held sync cannot pass: its commit waits for approval, and deliveries wait for it.

Both re-check the golden store themselves, so materializing ``golden_records`` or a delivery
asset by hand while a sync is held commits and delivers nothing.
"""

from __future__ import annotations

import dagster as dg

from passport_pipelines.store.golden_store import GoldenStore, Version
from passport_pipelines.store.sync_holds import DecisionError, SyncHolds
from passport_pipelines.store.version_status import APPROVED, COMMITTED


class SyncHeld(dg.Failure):
    """A held sync's change set is committed only after approval."""

    def __init__(self, district: str, school_year: str, number: int, status: str = "held"):
        super().__init__(
            f"{district} {school_year} version {number} is {status}: nothing is committed or delivered until it is "
            f"approved (passport approve {district} {number} --school-year {school_year} --by EMAIL, or the "
            "approve_sync job) or rejected")


def approved_version(store: GoldenStore, number: int, *, district: str, school_year: str) -> Version:
    """The approved held version a commit run was launched for: version ``number`` of the run's partition."""
    try:
        version = SyncHolds(store).find(district, school_year, number)
    except DecisionError as exc:
        raise dg.Failure(str(exc)) from None
    if version.status != APPROVED or not version.held_changes:
        raise dg.Failure(f"{district} {school_year} version {version.number} is {version.status}, not approved: "
                         "there is nothing to commit")
    return version


def check_deliverable(store: GoldenStore, version: Version) -> None:
    """Raise unless the version is committed and no later sync of its year waits for approval."""
    if version.status not in COMMITTED:
        raise SyncHeld(version.district, version.school_year, version.number, version.status)
    waiting = SyncHolds(store).awaiting(version.district, version.school_year)
    if waiting:
        raise SyncHeld(version.district, version.school_year, waiting[-1].number, waiting[-1].status)
