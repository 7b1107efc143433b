"""The ``writeback_results`` table: what each write-back did with each record it planned.

A write-back of a version first records every planned record with its decision (records still to
send as ``failed`` "not sent yet", so that a crash or an outage leaves them listed), then updates
each record as PowerSchool answers. A retry of the same version replaces that version's rows, record
by record. Rows hold ids, field names, rule names, counts and PowerSchool's scrubbed error text;
never a student's value.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pyarrow as pa
from sqlalchemy import and_, delete, func, select, update

from passport_pipelines.delivery.writeback.attempts import CHANGED_SCHEMA, INSERTED_SCHEMA, PRIOR_SCHEMA
from passport_pipelines.delivery.writeback.fields import INSERT
from passport_pipelines.store import schema
from passport_pipelines.store.golden_store import GoldenStore

SENT, FAILED, SKIPPED = "sent", "failed", "skipped"
STATUSES = (SENT, FAILED, SKIPPED)
COLUMNS = ("record_key", "entity", "golden_id", "powerschool_id", "action", "status", "fields", "skipped", "rule",
           "message", "attempts")


class WritebackResults:
    def __init__(self, store: GoldenStore):
        self.store = store
        self.table = schema.writeback_results

    # ---------------------------------------------------------------- what earlier write-backs did

    def prior(self, district: str, school_year: str, destination: str, up_to_version_id: int) -> pa.Table:
        """The latest result of every record key of the destination, up to this version (PRIOR_SCHEMA)."""
        t = self.table
        scope = and_(t.c.district == district, t.c.school_year == school_year, t.c.destination == destination,
                     t.c.version_id <= up_to_version_id)
        latest = select(func.max(t.c.id).label("id")).where(scope).group_by(t.c.record_key).subquery()
        query = select(t.c.record_key, t.c.golden_id, t.c.version_id, t.c.status, t.c.attempts, t.c.message,
                       t.c.powerschool_id).join(latest, latest.c.id == t.c.id)
        with self.store.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        return pa.Table.from_pylist(rows, schema=PRIOR_SCHEMA)

    def inserted(self, district: str, school_year: str, destination: str) -> pa.Table:
        """Every INSERT PowerSchool accepted from the destination's write-backs (INSERTED_SCHEMA)."""
        t = self.table
        query = select(t.c.record_key, t.c.version_id, t.c.powerschool_id).where(
            t.c.district == district, t.c.school_year == school_year, t.c.destination == destination,
            t.c.action == INSERT, t.c.status == SENT)
        with self.store.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        return pa.Table.from_pylist(rows, schema=INSERTED_SCHEMA)

    def last_changes(self, district: str, school_year: str, golden_ids: list[str], since_version_id: int) -> pa.Table:
        """For these golden people, the last version after ``since_version_id`` that changed one of their
        records (users or demographics) (CHANGED_SCHEMA)."""
        if not golden_ids:
            return CHANGED_SCHEMA.empty_table()
        rc, v, users = schema.record_changes, schema.versions, schema.golden_tables["users"]
        scope = (v.c.district == district, v.c.school_year == school_year, rc.c.version_id > since_version_id)
        direct = select(rc.c.golden_id.label("golden_id"), rc.c.version_id).join(v, v.c.id == rc.c.version_id) \
            .where(*scope, rc.c.entity == "users")
        through_user = select(users.c.golden_id.label("golden_id"), rc.c.version_id) \
            .join(v, v.c.id == rc.c.version_id) \
            .join(users, and_(users.c.district == v.c.district, users.c.school_year == v.c.school_year,
                              users.c.source == rc.c.source, users.c.sourced_id == rc.c.sourced_id)) \
            .where(*scope, rc.c.entity == "demographics")
        both = direct.union_all(through_user).subquery()
        wanted = sorted(set(golden_ids))
        out: dict[str, int] = {}
        with self.store.engine.connect() as conn:
            for start in range(0, len(wanted), 500):  # bounded IN lists
                chunk = wanted[start:start + 500]
                query = select(both.c.golden_id, func.max(both.c.version_id)).where(both.c.golden_id.in_(chunk)) \
                    .group_by(both.c.golden_id)
                out.update({g: int(n) for g, n in conn.execute(query)})
        return pa.Table.from_pylist([{"golden_id": g, "changed_in": n} for g, n in out.items()], schema=CHANGED_SCHEMA)

    # ---------------------------------------------------------------- this write-back

    def replace(self, version_id: int, district: str, school_year: str, destination: str, rows: list[dict]) -> None:
        """This version's rows for the destination become ``rows`` (one per planned record)."""
        t = self.table
        now = datetime.now(timezone.utc)
        with self.store.engine.begin() as conn:
            conn.execute(delete(t).where(t.c.version_id == version_id, t.c.destination == destination))
            if rows:
                conn.execute(t.insert(), [{**{c: r[c] for c in COLUMNS}, "version_id": version_id, "district": district,
                                           "school_year": school_year, "destination": destination, "updated_at": now}
                                          for r in rows])

    def update(self, version_id: int, destination: str, rows: list[dict]) -> None:
        """Record PowerSchool's answers: each row by its record key."""
        if not rows:
            return
        t = self.table
        now = datetime.now(timezone.utc)
        with self.store.engine.begin() as conn:
            for r in rows:
                conn.execute(update(t).where(t.c.version_id == version_id, t.c.destination == destination,
                                             t.c.record_key == r["record_key"])
                             .values(status=r["status"], powerschool_id=r["powerschool_id"], rule=r["rule"],
                                     message=r["message"],
                                     attempts=r["attempts"], fields=r["fields"], skipped=r["skipped"],
                                     updated_at=now))

    def for_version(self, version_id: int, destination: str | None = None) -> list[dict]:
        t = self.table
        query = select(t).where(t.c.version_id == version_id)
        if destination is not None:
            query = query.where(t.c.destination == destination)
        with self.store.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query.order_by(t.c.id)).mappings()]
