"""One write-back of a committed version into one Google Workspace destination.

plan (``plan``) -> guard (``rules``) -> decisions (``writeback.attempts``: retries, give-ups, accounts
already created) -> every planned record recorded (``writeback_results``; what is still to send as
``failed``, "not sent yet") -> new accounts, then changes and suspensions, one request each -> each
answer recorded. Google failing as a whole stops it, as PowerSchool does (``writeback.run``).
"""

from __future__ import annotations

import logging
from typing import Callable

import pyarrow.compute as pc

from passport_pipelines.config.destinations import GoogleWorkspaceDestination
from passport_pipelines.config.integration import Integration
from passport_pipelines.delivery.writeback.attempts import decide
from passport_pipelines.delivery.writeback.google import fields as gf
from passport_pipelines.delivery.writeback.google.client import GoogleDirectoryWriter
from passport_pipelines.delivery.writeback.google.plan import build_google_plan
from passport_pipelines.delivery.writeback.google.rules import guard_google
from passport_pipelines.delivery.writeback.records import (
    MAX_ATTEMPTS,
    NOT_SENT_YET,
    WritebackOutcome,
    answered,
    changes_by_record,
    first_rows,
)
from passport_pipelines.delivery.writeback.results import FAILED, WritebackResults
from passport_pipelines.sources.errors import ConnectorError
from passport_pipelines.store.golden_store import GoldenStore, Version

log = logging.getLogger(__name__)
RECORD_EVERY = 50  # answers kept in the store at least this often
SYSTEM = "Google Workspace"


def write_back_google(store: GoldenStore, integration: Integration, destination: GoogleWorkspaceDestination,
                      version: Version, open_client: Callable[[], GoogleDirectoryWriter], *,
                      max_attempts: int = MAX_ATTEMPTS) -> WritebackOutcome:
    """Create, change and suspend the accounts the version's golden users call for; every planned
    record ends up recorded."""
    district, year = version.district, version.school_year
    plan = build_google_plan(store, integration, destination, year)
    guarded = guard_google(plan.changes, plan.accounts, managed_org_units=destination.managed_org_units(),
                           reactivate=destination.reactivate)
    results = WritebackResults(store)
    prior = results.prior(district, year, destination.name, version.id)
    exhausted = prior.filter(pc.and_(pc.equal(prior.column("status"), FAILED),
                                     pc.greater_equal(prior.column("attempts"), max_attempts)))
    changed = results.last_changes(district, year, exhausted.column("golden_id").to_pylist(),
                                   pc.min(exhausted.column("version_id")).as_py() or 0)
    decisions = decide(plan.changes, guarded, prior, results.inserted(district, year, destination.name), changed,
                       version_id=version.id, max_attempts=max_attempts)
    existing = {r["record_key"]: r for r in results.for_version(version.id, destination.name)}
    rows = first_rows(decisions, existing, system=SYSTEM)
    results.replace(version.id, district, year, destination.name, rows)
    outcome = WritebackOutcome(destination.name, rows)
    todo = [r for r in rows if r["decision"] == "send"]
    if not todo:
        return outcome
    todo.sort(key=lambda r: (r["action"] != gf.INSERT, r["record_key"]))  # new accounts first
    changes = changes_by_record(guarded.allowed)
    client, pending = None, []
    try:
        client = open_client()
        for row in todo:
            fields = changes[row["record_key"]]
            if row["action"] == gf.INSERT:
                result = client.insert(fields)
            else:
                result = client.patch(row["action"], row["powerschool_id"], fields)
            pending += answered(row, result)
            if len(pending) >= RECORD_EVERY:
                results.update(version.id, destination.name, pending)
                pending = []
    except ConnectorError as exc:
        unsent = [r for r in rows if r["decision"] == "send" and r["message"] == NOT_SENT_YET]
        for r in unsent:
            r["rule"] = "google_failed"
            r["message"] = (f"not sent: Google Workspace failed as a whole ({exc.kind.replace('_', ' ')}); sent by "
                            "the next write-back")
        pending += unsent
        outcome.unavailable, outcome.failure_kind = str(exc), exc.kind
        log.warning("write-back %s of %s %s stopped: %s (%d record(s) not sent)", destination.name, district, year,
                    exc.kind, len(unsent))
    finally:
        results.update(version.id, destination.name, pending)
        if client is not None:
            outcome.requests = client.requests
            client.close()
    return outcome
