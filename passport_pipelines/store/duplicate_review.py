"""The duplicate review queue and the decision log in the golden store (tables: ``schema.py``).

A sync writes what it found in its commit transaction (``findings_writer``): links (records that take
another golden id), the unattended merges that made them, and new cases; for people, and for the orgs,
academic sessions, courses and classes its domains of uniqueness searched (each case and decision names
its entity). People resolve cases and undo
decisions through ``DuplicateReview``; each call is one transaction that appends to the log and applies
the decision to the golden records, so the next delivery shows it and the next sync respects it.

What a resolution does to the secondary record of its case (``--secondary`` in
docs/configuration.md#reconciliation-domains-of-uniqueness):

- ``delete``: its record is marked deleted now, and takes the primary's golden id so that what still
  points at it (enrollments) reaches the primary; a later sync that still has it brings it back, as
  a record of the primary's person.
- ``ignore``: redundant; it joins the primary's golden record but gives it no values (except the
  fields taken), and is never counted as a person again.
- ``create-new``: not a duplicate; both stay as they are and the pair is never offered again.

Undoing a merge splits the secondary off with its own golden id again and keeps the pair apart from
then on; undoing a resolution puts the case back in the queue and reverses what it applied.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import and_, func, insert, or_, select, update

from passport_pipelines.config.decided_by import who_decides
from passport_pipelines.config.reconciliation import RECORD_ENTITIES, record_attributes
from passport_pipelines.model import entities
from passport_pipelines.model.change_set import own_golden_id
from passport_pipelines.store import schema
from passport_pipelines.store.arrow_connection import ArrowConnection, const_array
from passport_pipelines.store.golden_store import GoldenStore
from passport_pipelines.store.version_status import COMMITTED

ENTITY = "users"
SECONDARY_ACTIONS = ("delete", "ignore", "create-new")
RECORD_KEY_SEPARATOR = "\x1f"  # chr(31): joins source and sourced id in a pair's keys; in no id
# Beside a change set: people's findings, and a folder per other entity searched (``<entity>/``).
DUPLICATES_FOLDER = "__duplicates"


class ReviewError(ValueError):
    """A resolution or undo that cannot be applied; the message says why (ids only, never values)."""


@dataclass(frozen=True)
class RecordRef:
    source: str
    sourced_id: str

    @classmethod
    def parse(cls, text: str) -> "RecordRef":
        """``SOURCE:SOURCED_ID`` as the CLI and ``duplicates list`` spell a record."""
        source, sep, sourced_id = text.partition(":")
        if not sep or not source or not sourced_id:
            raise ReviewError(f"{text!r}: name a record as SOURCE:SOURCED_ID (e.g. sis:12345)")
        return cls(source, sourced_id)

    def __str__(self) -> str:
        return f"{self.source}:{self.sourced_id}"


# ------------------------------------------------------------------ written by a sync's commit

FINDINGS = ("links", "merges", "cases")


def write_findings_files(folder: Path, findings) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in FINDINGS:
        pq.write_table(getattr(findings, name), folder / f"{name}.parquet")


def findings_writer(folder: Path, *, district: str, school_year: str, committed_by: str):
    """A commit ``also`` step: applies links and appends merges and cases, in the version's transaction;
    people's from ``folder``, each other entity's from ``folder/<entity>``."""
    def write(ac: ArrowConnection, version_id: int) -> None:
        for entity, where in ((ENTITY, folder), *((e, folder / e) for e in RECORD_ENTITIES)):
            _write_findings(ac, version_id, where, entity, district=district, school_year=school_year,
                            committed_by=committed_by)
    return write


def _write_findings(ac: ArrowConnection, version_id: int, folder: Path, entity: str, *, district: str,
                    school_year: str, committed_by: str) -> None:
    if not (folder / "links.parquet").exists():
        return
    now = datetime.now(timezone.utc)
    links = pq.read_table(folder / "links.parquet")
    table = schema.golden_table_name(entity)
    n = links.num_rows
    ac.execute_many(
        f"UPDATE {table} SET golden_id = {ac.ph(1)} WHERE district = {ac.ph(2)} AND school_year = {ac.ph(3)} "
        f"AND source = {ac.ph(4)} AND sourced_id = {ac.ph(5)}",
        pa.table({"g": links.column("golden_id"), "d": const_array(district, n), "y": const_array(school_year, n),
                  "s": links.column("source"), "k": links.column("sourced_id")}))
    merges = pq.read_table(folder / "merges.parquet").to_pylist()
    _insert_json(ac, "duplicate_decisions", [{
        "district": district, "school_year": school_year, "entity": entity, "action": "merge",
        "primary_source": m["primary_source"], "primary_sourced_id": m["primary_sourced_id"],
        "secondary_source": m["secondary_source"], "secondary_sourced_id": m["secondary_sourced_id"],
        "golden_id": m["golden_id"], "take_fields": [], "domain": m["domain"],
        "explanation": _explanation(m), "decided_by": committed_by, "decided_at": now, "version_id": version_id,
    } for m in merges])
    cases = pq.read_table(folder / "cases.parquet").to_pylist()
    _insert_json(ac, "duplicate_cases", [{
        "district": district, "school_year": school_year, "entity": entity,
        **{k: c[k] for k in ("left_source", "left_sourced_id", "right_source", "right_sourced_id", "domain")},
        "score": float(c["score"]), "agreed": list(c["agreed"] or []), "scores": json.loads(c["scores"] or "{}"),
        "reason": c["reason"], "status": "pending", "created_version_id": version_id,
    } for c in cases])


def _explanation(row: dict) -> dict:
    return {"domain": row["domain"], "score": float(row["score"]), "agreed": list(row["agreed"] or []),
            "scores": json.loads(row["scores"] or "{}"), "reason": row["reason"]}


def _insert_json(ac: ArrowConnection, table: str, rows: list[dict]) -> None:
    """Insert rows whose dict/list values go to JSON columns."""
    if not rows:
        return
    names = list(rows[0])
    exprs = [ac.value_ph(i, rows[0][name]) for i, name in enumerate(names, start=1)]
    columns = {name: pa.array([ac.param(r[name]) for r in rows]) for name in names}
    ac.execute_many(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(exprs)})", pa.table(columns))


# ------------------------------------------------------------------ read and decided by people

class DuplicateReview:
    def __init__(self, store: GoldenStore):
        self.store = store
        self.engine = store.engine

    def known_pairs(self, district: str, school_year: str, entity: str = ENTITY) -> pa.Table:
        """(left_key, right_key) of every pair of the entity's records a sync must not offer again: each
        case ever opened (pending or resolved) and each pair kept apart by an undone merge."""
        c, d = schema.duplicate_cases, schema.duplicate_decisions
        with self.engine.connect() as conn:
            pairs = [(r.left_source, r.left_sourced_id, r.right_source, r.right_sourced_id) for r in conn.execute(
                select(c.c.left_source, c.c.left_sourced_id, c.c.right_source, c.c.right_sourced_id)
                .where(c.c.district == district, c.c.school_year == school_year, c.c.entity == entity))]
            pairs += [(r.primary_source, r.primary_sourced_id, r.secondary_source, r.secondary_sourced_id)
                      for r in conn.execute(select(d).where(d.c.district == district, d.c.school_year == school_year,
                                                            d.c.entity == entity, d.c.action == "create-new",
                                                            d.c.case_id.is_(None)))]
        keys = sorted({tuple(sorted((f"{a}{RECORD_KEY_SEPARATOR}{b}", f"{x}{RECORD_KEY_SEPARATOR}{y}")))
                       for a, b, x, y in pairs})
        return pa.table({"left_key": pa.array([k[0] for k in keys], pa.string()),
                         "right_key": pa.array([k[1] for k in keys], pa.string())})

    def cases(self, district: str, school_year: str | None = None, status: str | None = "pending") -> list[dict]:
        c = schema.duplicate_cases
        query = select(c).where(c.c.district == district)
        if school_year:
            query = query.where(c.c.school_year == school_year)
        if status:
            query = query.where(c.c.status == status)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query.order_by(c.c.score.desc(), c.c.id)).mappings()]

    def case(self, case_id: int) -> dict:
        c = schema.duplicate_cases
        with self.engine.connect() as conn:
            row = conn.execute(select(c).where(c.c.id == case_id)).mappings().first()
        if row is None:
            raise ReviewError(f"no duplicate case {case_id}")
        return dict(row)

    def decision_district(self, decision_id: int) -> str:
        """The district a logged decision belongs to (who may undo it depends on it)."""
        d = schema.duplicate_decisions
        with self.engine.connect() as conn:
            district = conn.execute(select(d.c.district).where(d.c.id == decision_id)).scalar()
        if district is None:
            raise ReviewError(f"no duplicate decision {decision_id}")
        return district

    def decisions(self, district: str, school_year: str | None = None) -> list[dict]:
        d = schema.duplicate_decisions
        query = select(d).where(d.c.district == district)
        if school_year:
            query = query.where(d.c.school_year == school_year)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query.order_by(d.c.id)).mappings()]

    def queue_counts(self, district: str, school_year: str) -> dict:
        """Pending and resolved cases, and pending ones per domain (``<entity>:<domain>`` for the
        domains of orgs, sessions, courses and classes)."""
        c = schema.duplicate_cases
        where = and_(c.c.district == district, c.c.school_year == school_year)
        with self.engine.connect() as conn:
            status = dict(conn.execute(select(c.c.status, func.count()).where(where).group_by(c.c.status)).all())
            domains = {domain_label(entity, domain): n for entity, domain, n in conn.execute(
                select(c.c.entity, c.c.domain, func.count()).where(where, c.c.status == "pending")
                .group_by(c.c.entity, c.c.domain)).all()}
        return {"pending": status.get("pending", 0), "resolved": status.get("resolved", 0),
                "pending_by_domain": domains}

    def golden_ids(self, district: str, school_year: str, refs: list[RecordRef],
                   entity: str = ENTITY) -> dict[RecordRef, str]:
        """The golden id of each record of the entity (deleted or not) that is on record."""
        if not refs:
            return {}
        with self.engine.connect() as conn:
            return {ref: golden for ref, (golden, _) in _golden_ids(conn, district, school_year, refs, entity).items()}

    def last_decided_at(self, district: str, school_year: str) -> datetime | None:
        """When the latest decision by a person (a resolution or an undo) was made."""
        d = schema.duplicate_decisions
        with self.engine.connect() as conn:
            return conn.execute(select(func.max(d.c.decided_at)).where(
                d.c.district == district, d.c.school_year == school_year, d.c.version_id.is_(None))).scalar_one()

    def effective(self, district: str, school_year: str) -> list[dict]:
        """Decisions in force: not undone, and not undos themselves."""
        log = self.decisions(district, school_year)
        undone = {d["undoes"] for d in log if d["action"] == "undo"}
        return [d for d in log if d["action"] != "undo" and d["id"] not in undone]

    # -------------------------------------------------------------- lineage of merged people

    def replace_lineage(self, district: str, school_year: str, version_id: int, rows: pa.Table) -> None:
        """The lineage of every merged person as delivered by ``version_id`` (``golden_id, lineage``)."""
        n = rows.num_rows
        with ArrowConnection(self.store.url) as ac, ac.transaction():
            ac.execute(f"DELETE FROM golden_lineage WHERE district = {ac.ph(1)} AND school_year = {ac.ph(2)} "
                       f"AND entity = {ac.ph(3)}", [district, school_year, ENTITY])
            ac.ingest("golden_lineage", pa.table({
                "district": const_array(district, n), "school_year": const_array(school_year, n), "entity": const_array(ENTITY, n),
                "golden_id": rows.column("golden_id"), "version_id": pa.array([version_id] * n, pa.int32()),
                "lineage": rows.column("lineage")}))

    def carry_lineage(self, district: str, school_year: str, version_id: int) -> None:
        """The lineage on record is the one ``version_id`` delivers too (its users were not rebuilt: the
        same inputs give the same lineage)."""
        with ArrowConnection(self.store.url) as ac, ac.transaction():
            ac.execute(f"UPDATE golden_lineage SET version_id = {ac.ph(1)} WHERE district = {ac.ph(2)} "
                       f"AND school_year = {ac.ph(3)} AND entity = {ac.ph(4)}", [version_id, district, school_year, ENTITY])

    def splice_lineage(self, district: str, school_year: str, version_id: int, people: pa.Array,
                       rows: pa.Table) -> None:
        """The lineage on record is the one ``version_id`` delivers, except for ``people`` (golden ids),
        whose users were built again: theirs is ``rows`` (``golden_id, lineage``; the merged among them)."""
        key = [district, school_year, ENTITY]
        with ArrowConnection(self.store.url) as ac, ac.transaction():
            # Few people are merged: deleting theirs among the rebuilt is a handful of statements, where
            # one per rebuilt person (tens of thousands) took seconds on PostgreSQL.
            where = f"district = {ac.ph(1)} AND school_year = {ac.ph(2)} AND entity = {ac.ph(3)}"
            on_record = ac.fetch(f"SELECT golden_id FROM golden_lineage WHERE {where}", key,
                                 pa.schema([("golden_id", pa.string())])).column("golden_id")
            gone = on_record.filter(pc.is_in(on_record, value_set=people.cast(pa.string())))
            ac.execute_many(f"DELETE FROM golden_lineage WHERE {where} AND golden_id = {ac.ph(4)}",
                            pa.table({"d": const_array(district, len(gone)), "y": const_array(school_year, len(gone)),
                                      "e": const_array(ENTITY, len(gone)), "g": gone}))
            ac.execute(f"UPDATE golden_lineage SET version_id = {ac.ph(1)} WHERE district = {ac.ph(2)} "
                       f"AND school_year = {ac.ph(3)} AND entity = {ac.ph(4)}", [version_id, *key])
            n = rows.num_rows
            ac.ingest("golden_lineage", pa.table({
                "district": const_array(district, n), "school_year": const_array(school_year, n),
                "entity": const_array(ENTITY, n), "golden_id": rows.column("golden_id"),
                "version_id": pa.array([version_id] * n, pa.int32()), "lineage": rows.column("lineage")}))

    def person(self, district: str, school_year: str, golden_id: str) -> dict:
        """A person's records (SOURCE:SOURCED_ID, deleted or not) and, when merged, the lineage of
        each attribute. Ids only: no values."""
        users, lineage = schema.golden_tables[ENTITY], schema.golden_lineage
        with self.engine.connect() as conn:
            records = [{"record": f"{r.source}:{r.sourced_id}", "deleted": r.deleted_version is not None}
                       for r in conn.execute(select(users.c.source, users.c.sourced_id, users.c.deleted_version).where(
                           users.c.district == district, users.c.school_year == school_year,
                           users.c.golden_id == golden_id).order_by(users.c.source, users.c.sourced_id))]
            row = conn.execute(select(lineage.c.lineage, lineage.c.version_id).where(
                lineage.c.district == district, lineage.c.school_year == school_year,
                lineage.c.entity == ENTITY, lineage.c.golden_id == golden_id)).first()
        if not records:
            raise ReviewError(f"{district} {school_year}: no person with golden id {golden_id}")
        if row is not None:
            attributes = {k: v for k, v in json.loads(row.lineage).items() if v is not None}
        elif len(records) == 1:  # one record: every attribute is its own
            attributes = {"*": records[0]["record"]}
        else:
            attributes = {}  # merged since the last delivery: lineage comes with the next one
        return {"golden_id": golden_id, "records": records, "lineage": attributes,
                "delivered_version_id": row.version_id if row is not None else None}

    # -------------------------------------------------------------- resolve and undo

    def resolve(self, case_id: int, *, primary: RecordRef, secondary_action: str, take: list[str] | None = None,
                by: str) -> int:
        """Resolve a pending case; returns the decision id."""
        by = _decider(by)
        if secondary_action not in SECONDARY_ACTIONS:
            raise ReviewError(f"--secondary must be one of {', '.join(SECONDARY_ACTIONS)}, not {secondary_action!r}")
        case = self.case(case_id)
        if case["status"] != "pending":
            raise ReviewError(f"case {case_id} is {case['status']} already (decision {case['decision_id']}); "
                              "undo that decision first")
        left = RecordRef(case["left_source"], case["left_sourced_id"])
        right = RecordRef(case["right_source"], case["right_sourced_id"])
        if primary not in (left, right):
            raise ReviewError(f"case {case_id} is between {left} and {right}; --primary must be one of them")
        secondary = right if primary == left else left
        entity = case["entity"]
        take = list(dict.fromkeys(take or []))
        _check_fields(take, entity)
        if take and secondary_action == "create-new":
            raise ReviewError("--take copies fields into the primary's golden record; with --secondary create-new "
                              "the two stay separate people, so there is nothing to take them into")
        district, school_year = case["district"], case["school_year"]
        with self.engine.begin() as conn:
            golden = _golden_ids(conn, district, school_year, [primary, secondary], entity)
            if primary not in golden or secondary not in golden:
                raise ReviewError(f"case {case_id}: a record of the pair is no longer on record")
            decision_id = conn.execute(insert(schema.duplicate_decisions).values(
                district=district, school_year=school_year, entity=entity, case_id=case_id, action=secondary_action,
                primary_source=primary.source, primary_sourced_id=primary.sourced_id,
                secondary_source=secondary.source, secondary_sourced_id=secondary.sourced_id,
                golden_id=golden[primary][0], take_fields=take, domain=case["domain"],
                explanation={"domain": case["domain"], "score": case["score"], "agreed": case["agreed"],
                             "scores": case["scores"], "reason": case["reason"],
                             "secondary_golden_id": golden[secondary][0],
                             "secondary_was_deleted": golden[secondary][1] is not None},
                decided_by=by, decided_at=datetime.now(timezone.utc)).returning(schema.duplicate_decisions.c.id)
            ).scalar_one()
            users = schema.golden_tables[entity]
            where = _record_where(users, district, school_year, secondary)
            if secondary_action in ("delete", "ignore"):
                # Both leave the secondary out of deliveries as a person of its own.
                values = {"golden_id": golden[primary][0]}
                if secondary_action == "delete":
                    values["deleted_version"] = _latest_version_id(conn, district, school_year)
                conn.execute(update(users).where(where).values(**values))
            conn.execute(update(schema.duplicate_cases).where(schema.duplicate_cases.c.id == case_id)
                         .values(status="resolved", decision_id=decision_id))
        return decision_id

    def undo(self, decision_id: int, *, by: str) -> int:
        """Take a decision back; returns the id of the undo entry in the log."""
        by = _decider(by)
        d = schema.duplicate_decisions
        with self.engine.begin() as conn:
            row = conn.execute(select(d).where(d.c.id == decision_id)).mappings().first()
            if row is None:
                raise ReviewError(f"no duplicate decision {decision_id}")
            if row["action"] == "undo":
                raise ReviewError(f"decision {decision_id} is an undo itself; undo decisions, not undos")
            if conn.execute(select(func.count()).select_from(d).where(d.c.undoes == decision_id)).scalar_one():
                raise ReviewError(f"decision {decision_id} is undone already")
            district, school_year = row["district"], row["school_year"]
            primary = RecordRef(row["primary_source"], row["primary_sourced_id"])
            secondary = RecordRef(row["secondary_source"], row["secondary_sourced_id"])
            now = datetime.now(timezone.utc)
            undo_id = conn.execute(insert(d).values(
                district=district, school_year=school_year, entity=row["entity"], case_id=row["case_id"],
                action="undo", primary_source=primary.source, primary_sourced_id=primary.sourced_id,
                secondary_source=secondary.source, secondary_sourced_id=secondary.sourced_id,
                golden_id=row["golden_id"], take_fields=[], domain=row["domain"], explanation={"undoes": row["action"]},
                decided_by=by, decided_at=now, undoes=decision_id).returning(d.c.id)).scalar_one()
            users = schema.golden_tables[row["entity"]]
            where = _record_where(users, district, school_year, secondary)
            own = own_golden_id(district, row["entity"], secondary.source, secondary.sourced_id)
            if row["action"] == "merge":
                # Split off, and keep the pair apart: the next sync must not merge it again.
                conn.execute(update(users).where(where).values(golden_id=own))
                conn.execute(insert(d).values(
                    district=district, school_year=school_year, entity=row["entity"], action="create-new",
                    primary_source=primary.source, primary_sourced_id=primary.sourced_id,
                    secondary_source=secondary.source, secondary_sourced_id=secondary.sourced_id,
                    golden_id=row["golden_id"], take_fields=[], domain=row["domain"],
                    explanation={"reason": f"merge {decision_id} undone: kept apart"}, decided_by=by, decided_at=now))
            elif row["action"] in ("delete", "ignore"):
                explanation = row["explanation"] or {}
                values = {"golden_id": explanation.get("secondary_golden_id") or own}
                if row["action"] == "delete" and not explanation.get("secondary_was_deleted"):
                    values["deleted_version"] = None
                conn.execute(update(users).where(where).values(**values))
            if row["case_id"] is not None:
                conn.execute(update(schema.duplicate_cases).where(schema.duplicate_cases.c.id == row["case_id"])
                             .values(status="pending", decision_id=None))
        return undo_id


def _check_fields(take: list[str], entity: str = ENTITY) -> None:
    if entity == ENTITY:
        allowed, what = set(entities.content_columns("users")) | {"birth_date", "sex"}, "a person attribute"
    else:
        allowed, what = set(record_attributes(entity)), f"an attribute of {entity}"
    unknown = [f for f in take if f not in allowed]
    if unknown:
        raise ReviewError(f"--take {','.join(unknown)}: not {what} "
                          f"(use any of {', '.join(sorted(allowed))})")


def domain_label(entity: str, domain: str) -> str:
    """A domain as counts name it: people's by name, the other entities' as ``<entity>:<domain>``."""
    return domain if entity == ENTITY else f"{entity}:{domain}"


def _record_where(table, district: str, school_year: str, ref: RecordRef):
    return and_(table.c.district == district, table.c.school_year == school_year,
                table.c.source == ref.source, table.c.sourced_id == ref.sourced_id)


def _golden_ids(conn, district: str, school_year: str, refs: list[RecordRef],
                entity: str = ENTITY) -> dict[RecordRef, tuple]:
    users = schema.golden_tables[entity]
    rows = conn.execute(select(users.c.source, users.c.sourced_id, users.c.golden_id, users.c.deleted_version)
                        .where(users.c.district == district, users.c.school_year == school_year,
                               or_(*[and_(users.c.source == r.source, users.c.sourced_id == r.sourced_id)
                                     for r in refs]))).all()
    return {RecordRef(r.source, r.sourced_id): (r.golden_id, r.deleted_version) for r in rows}


def _latest_version_id(conn, district: str, school_year: str) -> int:
    v = schema.versions
    return conn.execute(select(v.c.id).where(v.c.district == district, v.c.school_year == school_year,
                                             v.c.status.in_(COMMITTED))
                        .order_by(v.c.number.desc()).limit(1)).scalar_one()


def _decider(by: str) -> str:
    try:
        return who_decides(by)
    except ValueError as exc:
        raise ReviewError(f"by: {exc}") from None
