"""One write-back of a committed version into one PowerSchool destination.

plan (``plan``) -> guard (``rules``) -> decisions (``attempts``) -> every planned record recorded
(``results``; what is still to send as ``failed``, "not sent yet") -> students sent in batches, then
contacts (a new contact may belong to a student created a moment before) -> each answer recorded.

PowerSchool failing as a whole (down, refused token, an answer that is not the documented one) stops
the write-back: what was not sent stays recorded as ``failed`` with the reason, and the outcome says
so (``unavailable``); the asset fails the run and marks the version ``propagation failed``. A record
PowerSchool refuses is that record's failure only: recorded, retried by the next write-back (of the
same version or a later one) until ``max_attempts``, then listed as failed for good until its golden
record changes.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Callable

import pyarrow as pa
import pyarrow.compute as pc

from passport_pipelines.config.destinations import PowerSchoolWritebackDestination
from passport_pipelines.config.integration import Integration
from passport_pipelines.delivery.writeback.attempts import decide
from passport_pipelines.delivery.writeback.client import BATCH_SIZE, WritebackClient
from passport_pipelines.delivery.writeback.fields import CONTACT, INSERT, STUDENT, UPDATE
from passport_pipelines.delivery.writeback.plan import build_plan
from passport_pipelines.delivery.writeback.records import (
    MAX_ATTEMPTS,
    NOT_SENT_YET,
    WritebackOutcome,
    answered,
    changes_by_record,
    first_rows,
    not_sendable,
)
from passport_pipelines.delivery.writeback.requests import NotSendable, contact_body, student_record
from passport_pipelines.delivery.writeback.results import FAILED, SENT, WritebackResults
from passport_pipelines.delivery.writeback.rules import guard
from passport_pipelines.sources.errors import ConnectorError
from passport_pipelines.store.golden_store import GoldenStore, Version

log = logging.getLogger(__name__)

class _Writer:
    def __init__(self, client: WritebackClient, results: WritebackResults, version: Version, destination: str,
                 rows: list[dict], changes: dict[str, dict[str, str]]):
        self.client, self.results, self.version, self.destination = client, results, version, destination
        self.rows = rows
        self.changes = changes

    def _record(self, rows: list[dict]) -> None:
        self.results.update(self.version.id, self.destination, rows)

    def students(self, schools: dict[str, int]) -> None:
        todo = [r for r in self.rows if r["entity"] == STUDENT and r["decision"] == "send"]
        todo.sort(key=lambda r: r["action"] != INSERT)  # new students first: their contacts need their ids
        for start in range(0, len(todo), BATCH_SIZE):
            batch, records, refused = todo[start:start + BATCH_SIZE], [], []
            by_uid = {}
            for i, row in enumerate(batch, start + 1):
                try:
                    record = student_record(str(i), row["action"], row["powerschool_id"],
                                            self.changes[row["record_key"]], schools)
                except NotSendable as exc:
                    refused += not_sendable(row, exc)
                    continue
                records.append(record)
                by_uid[str(i)] = row
            replies = []
            if records:
                for uid, result in self.client.post_students(records).items():
                    if uid in by_uid:
                        replies += answered(by_uid[uid], result)
            self._record(refused + replies)

    def contacts(self, links: pa.Table) -> None:
        created = {r["golden_id"]: r["powerschool_id"] for r in self.rows
                   if r["entity"] == STUDENT and r["action"] == INSERT and r["powerschool_id"]
                   and (r["status"] == SENT or r["decision"] == "inserted")}
        students: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for link in links.to_pylist():
            dcid = link["student_powerschool_id"] or created.get(link["student_golden_id"])
            if dcid and link["relationship"]:
                students[link["golden_id"]].append((dcid, link["relationship"]))
        for row in (r for r in self.rows if r["entity"] == CONTACT and r["decision"] == "send"):
            changes = self.changes[row["record_key"]]
            try:
                body = contact_body(row["action"], changes, sorted(set(students.get(row["golden_id"], []))))
            except NotSendable as exc:
                self._record(not_sendable(row, exc))
                continue
            if row["action"] == UPDATE:
                result = self.client.update_contact(row["powerschool_id"], body)
            else:
                result = self.client.create_contact(body)
            self._record(answered(row, result))


def write_back(store: GoldenStore, integration: Integration, destination: PowerSchoolWritebackDestination,
               version: Version, open_client: Callable[[], WritebackClient], *,
               max_attempts: int = MAX_ATTEMPTS) -> WritebackOutcome:
    """Write the version's golden values into PowerSchool; every planned record ends up recorded."""
    district, year = version.district, version.school_year
    plan = build_plan(store, integration, destination, year)
    guarded = guard(plan.changes, plan.links)
    results = WritebackResults(store)
    prior = results.prior(district, year, destination.name, version.id)
    exhausted = prior.filter(pc.and_(pc.equal(prior.column("status"), FAILED),
                                     pc.greater_equal(prior.column("attempts"), max_attempts)))
    changed = results.last_changes(district, year, exhausted.column("golden_id").to_pylist(),
                                   pc.min(exhausted.column("version_id")).as_py() or 0)
    decisions = decide(plan.changes, guarded, prior, results.inserted(district, year, destination.name), changed,
                       version_id=version.id, max_attempts=max_attempts)
    existing = {r["record_key"]: r for r in results.for_version(version.id, destination.name)}
    rows = first_rows(decisions, existing)
    results.replace(version.id, district, year, destination.name, rows)
    outcome = WritebackOutcome(destination.name, rows)
    if not any(r["decision"] == "send" for r in rows):
        return outcome
    client = None
    try:
        client = open_client()
        writer = _Writer(client, results, version, destination.name, rows, changes_by_record(guarded.allowed))
        writer.students(client.schools())
        writer.contacts(plan.links)
    except ConnectorError as exc:
        unsent = [r for r in rows if r["decision"] == "send" and r["message"] == NOT_SENT_YET]
        for r in unsent:
            r["rule"] = "powerschool_failed"
            r["message"] = (f"not sent: PowerSchool failed as a whole ({exc.kind.replace('_', ' ')}); sent by the "
                            "next write-back")
        results.update(version.id, destination.name, unsent)
        outcome.unavailable, outcome.failure_kind = str(exc), exc.kind
        log.warning("write-back %s of %s %s stopped: %s (%d record(s) not sent)", destination.name, district, year,
                    exc.kind, len(unsent))
    finally:
        if client is not None:
            outcome.requests = client.requests
            client.close()
    return outcome
