"""The delivered golden data of a version: one frame per entity, golden ids in place, one row per person
(and per golden org, academic session, course and class, which domains of uniqueness may merge).

Built once per delivery and shared by every destination, each of which then sees it through its
own privacy shield (``privacy_shield.py``); only the frames some destination's files need when the
others' files can be copied from its last delivery (``frame_fingerprints.py``).
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from passport_pipelines.config.integration import Integration
from passport_pipelines.config.reconciliation import RECORD_ENTITIES
from passport_pipelines.delivery.background import started
from passport_pipelines.delivery.changed_people import ChangedRecords, changed_people, changed_records
from passport_pipelines.delivery.delivered_ids import REFERENCED, delivered_view
from passport_pipelines.delivery.frame_fingerprints import frame_fingerprints, people_inputs
from passport_pipelines.model import entities
from passport_pipelines.model.frames import to_frame
from passport_pipelines.reconciliation.golden_people import PERSON_ENTITIES, golden_people_view, lineage_rows
from passport_pipelines.reconciliation.review_effects import ReviewEffects, review_effects
from passport_pipelines.sql.engine import connect
from passport_pipelines.sql.quoting import lit
from passport_pipelines.store.duplicate_review import DuplicateReview
from passport_pipelines.store.golden_snapshots import REVIEWED, latest_snapshot, register_current, snapshot_dir
from passport_pipelines.store.golden_store import GoldenStore, Version

# Columns that only say where a record came from: never delivered.
UNEXPORTED_COLUMNS = ("content_hash", "district", "school_year", "source", "date_last_modified")
# Entities whose records a golden id may gather: delivered one row per golden id (master fields).
MERGED_ENTITIES = (*PERSON_ENTITIES, *RECORD_ENTITIES)
# The relations of every referenced entity's keys that ``register_keys`` registers.
KEYS = {entity: f"keys__{entity}" for entity in REFERENCED}
# The frames ``frames(people=...)`` narrows to some people: what their users rows are made of.
PEOPLE_RECORDS = ("users", "agents")
# Frames built in id order: their files are written so, and a later delivery splices rows into them.
ORDERED = ("users",)


@dataclass
class GoldenFrames:
    frames: dict[str, pd.DataFrame]
    lineage: pa.Table | None  # attribute lineage of merged people (users); None when users were not built
    org_keys: pa.Table  # source, sourced_id, golden_id of the orgs: what a shield's school list may name


# Columns that are the same on every record of a delivery, or never delivered: not read from the store
# (at a million students they are a fifth of what the read moves), only stood in for in the view.
_STANDINS = ("district", "school_year", "content_hash")


def _register_current(con, store: GoldenStore, version: Version, entity: str, snapshot: Path | None,
                      keys: pa.Table | None = None) -> None:
    """``current``: the committed, not deleted records of the entity, with golden ids: from the latest
    version's snapshot (``golden_snapshots.py``) when it has every current record, else from the store.
    ``keys``: a reviewed entity's current keys, when already read."""
    if snapshot is not None:
        register_current(con, store, snapshot, version, entity, "current", keys)
        if entity not in REVIEWED or not con.execute(
                "SELECT count(*) FROM current__keys AS k ANTI JOIN current AS c "
                "ON c.source = k.source AND c.sourced_id = k.sourced_id").fetchone()[0]:
            return
    read = [c for c in ("golden_id", *entities.columns(entity)) if c not in _STANDINS]
    con.register("current_read", store.current_records(version.district, version.school_year, entity, read))
    con.execute(f"CREATE OR REPLACE TEMP VIEW current AS SELECT *, {lit(version.district)} AS district, "
                f"{lit(version.school_year)} AS school_year, CAST(NULL AS VARCHAR) AS content_hash FROM current_read")


def _of_people(con, entity: str, people: pa.Array) -> str:
    """The current records of the entity that make the users rows of ``people`` (golden ids): their own
    records, and the agent records of which they are the user (their ``agentSourcedIds``)."""
    if entity not in PEOPLE_RECORDS:
        return "current"
    con.register("people", pa.table({"golden_id": people}))
    on = ("SEMI JOIN people AS p ON p.golden_id = c.golden_id" if entity == "users" else
          f"SEMI JOIN (SELECT k.source, k.sourced_id FROM {KEYS['users']} AS k SEMI JOIN people AS p "
          "ON p.golden_id = k.golden_id) AS u ON u.source = c.source AND u.sourced_id = c.user_sourced_id")
    con.execute(f"CREATE OR REPLACE TEMP VIEW current_people AS SELECT * FROM current AS c {on}")
    return "current_people"


def _release_current(con, entity: str) -> None:
    """Drop what the entity's frame was built from: the next entity's starts from an empty connection
    (at a million students the people's working tables alone were most of a gigabyte)."""
    con.execute("DROP VIEW IF EXISTS current_people")
    con.execute("DROP VIEW IF EXISTS current")
    for table in (f"records__{entity}", f"merged__{entity}", f"golden_people__{entity}", "merged__lineage"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    for name in ("current_read", "current__keys", "people"):
        try:
            con.unregister(name)
        except duckdb.Error:
            pass  # not registered for this entity


def register_keys(con: duckdb.DuckDBPyConnection, store: GoldenStore, district: str,
                  school_year: str) -> dict[str, pa.Table]:
    """The ``(source, sourced_id, golden_id)`` of every entity that records point at, registered in ``con``
    as ``KEYS[entity]`` (what ``golden_view`` turns references into golden ids with); returned by entity.
    The entities a golden id may gather keep the records a reviewer deleted as duplicates too, so that what
    still points at one reaches the golden record it joined; a ``current`` column tells those apart."""
    tables = {}
    for entity in REFERENCED:
        merged = entity in ("users", *RECORD_ENTITIES)
        tables[entity] = store.current_keys(district, school_year, entity, merged=merged, flagged=merged)
        con.register(KEYS[entity], tables[entity])
    return tables


def current_only(keys: pa.Table) -> pa.Table:
    """The current records' ``(source, sourced_id, golden_id)`` of keys ``register_keys`` read."""
    return keys.filter(keys.column("current")).select(["source", "sourced_id", "golden_id"])


def _kept(con, entity: str, relation: str, effects: ReviewEffects) -> str:
    """``relation`` less the records a reviewer marked redundant ("ignore"): no person (or school, course...)
    of their own, and no values given to the golden record they belong to."""
    if entity not in effects.ignored or not effects.ignored[entity].num_rows:
        return relation
    con.register(f"ignored__{entity}", effects.ignored[entity])
    con.execute(f"CREATE OR REPLACE TEMP VIEW {relation}_kept AS SELECT * FROM {relation} AS c WHERE NOT EXISTS "
                f"(SELECT 1 FROM ignored__{entity} AS i WHERE i.source = c.source AND i.sourced_id = c.sourced_id)")
    return f"{relation}_kept"


def _takes(con, entity: str, effects: ReviewEffects) -> str | None:
    """The fields reviewers took for the entity's golden records, registered in ``con``; None when none."""
    takes = effects.takes.get(entity)
    if takes is None or not takes.num_rows:
        return None
    con.register(f"takes__{entity}", takes)
    return f"takes__{entity}"


def golden_view(con: duckdb.DuckDBPyConnection, entity: str, relation: str, effects: ReviewEffects,
                integration: Integration) -> str:
    """A view of ``relation`` (current records of ``entity`` with their golden ids, every column) as the
    golden data of a version: the records a reviewer marked redundant left out; the record's id and its
    references as golden ids (through the keys of ``register_keys``); and for the entities a golden id may
    gather (``MERGED_ENTITIES``), one row per golden id, each field chosen by the master fields unless a
    reviewer took it from another record. Deliveries and the write-back both see a version through it."""
    view = delivered_view(con, entity, _kept(con, entity, relation, effects), KEYS)
    if entity not in MERGED_ENTITIES:
        return view
    return golden_people_view(con, entity, view, master_fields=integration.master_fields,
                              sources=[s.name for s in integration.sources], takes=_takes(con, entity, effects))


def golden_lineage(con: duckdb.DuckDBPyConnection, relation: str, effects: ReviewEffects,
                   integration: Integration) -> pa.Table:
    """Per merged person of ``relation`` (current user records with their golden ids): the record each
    attribute of their golden user comes from (``lineage_rows``), as ``golden_view`` chooses it."""
    return lineage_rows(con, _kept(con, "users", relation, effects), master_fields=integration.master_fields,
                        sources=[s.name for s in integration.sources], takes=_takes(con, "users", effects))


class GoldenFrameSource:
    """What a version's golden frames are built from, read once per delivery: the keys references are
    turned into golden ids with, the reviewers' decisions, the version's snapshot. ``fingerprints()``
    says what each frame is made of; ``frames(only)`` builds them. Close it (or use ``with``)."""

    def __init__(self, integration: Integration, version: Version, store: GoldenStore):
        self.integration, self.version, self.store = integration, version, store
        self.snapshot = latest_snapshot(store, version.district, version.school_year)
        self._decided = DuplicateReview(store).last_decided_at(version.district, version.school_year)
        # Which user and agent records changed since the version this one was committed over is compared
        # on the other core while the store's keys are read (a second each at a million students).
        self._changed = self._comparing(store.version(version.base_version_id) if version.base_version_id else None)
        self.con = connect()
        try:
            self.keys = register_keys(self.con, store, version.district, version.school_year)
            self.effects = review_effects(store, version.district, version.school_year)
        except BaseException:
            self.con.close()
            raise
        # The current keys of the reviewed entities, taken from the merged ones rather than read again:
        # at a million students each read of the users' keys is most of a second.
        self._current_keys = {entity: current_only(self.keys[entity]) for entity in REVIEWED}

    def __enter__(self) -> GoldenFrameSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    def fingerprints(self) -> dict[str, str]:
        """entity -> fingerprint of its frame (``frame_fingerprints``); empty without a snapshot."""
        if self.snapshot is None:
            return {}
        return frame_fingerprints(self.con, self.integration, self.snapshot, self._current_keys, self.keys,
                                  self.effects, self._decided)

    def people_inputs(self) -> str | None:
        """The fingerprint of what the users' frame is made of besides user records (``people_inputs``)."""
        return people_inputs(self.con, self.integration, self.snapshot, self.keys, self.effects, self._decided)

    def _comparing(self, base: Version | None) -> Future[ChangedRecords] | None:
        """The comparison of this version's snapshot of users and agents with ``base``'s, started; None
        when who changed cannot be told: no snapshot of either, or a duplicate decision since ``base`` was
        committed (it may have moved records then)."""
        base_snapshot = snapshot_dir(base) if base is not None else None
        if self.snapshot is None or base_snapshot is None or base.committed_at is None or not all(
                (folder / f"{entity}.parquet").is_file() for folder in (self.snapshot, base_snapshot)
                for entity in PEOPLE_RECORDS):
            return None
        if decided_after(self._decided, base.committed_at):
            return None
        return started("changed-records", changed_records, self.snapshot, base_snapshot)

    def changed_people(self) -> pa.Array | None:
        """The golden ids whose users row may differ from the one delivered for the version this one was
        committed over (``changed_people``); None when that cannot be told."""
        if self._changed is None:
            return None
        return changed_people(self.con, self._changed.result(), self.snapshot, KEYS["users"])

    def frames(self, only: set[str] | None = None, people: pa.Array | None = None) -> GoldenFrames:
        """The frames of every entity, or of those in ``only``; with users, their attribute lineage.
        ``people``: golden ids; the users frame (and lineage) holds these people only, and the agents frame
        their agents (only the users file reads it)."""
        frames, lineage = {}, None
        for entity in entities.ENTITIES:
            if only is not None and entity not in only:
                continue
            # One entity's full rows at a time; DuckDB scans the Arrow table in place. Columns the
            # export never writes are left behind, so a district's frames stay within budget.
            keys = self._current_keys.get(entity)
            if entity == "users" and people is not None:  # only these people's records are read
                keys = keys if keys is not None else self.store.current_keys(
                    self.version.district, self.version.school_year, entity)
                keys = keys.filter(pc.is_in(keys.column("golden_id"), value_set=people))
            _register_current(self.con, self.store, self.version, entity, self.snapshot, keys)
            relation = "current" if people is None else _of_people(self.con, entity, people)
            if entity == "users":
                lineage = golden_lineage(self.con, relation, self.effects, self.integration)
            view = golden_view(self.con, entity, relation, self.effects, self.integration)
            order = " ORDER BY sourced_id" if entity in ORDERED else ""
            frames[entity] = to_frame(self.con.execute(
                f"SELECT * EXCLUDE ({', '.join(UNEXPORTED_COLUMNS)}) FROM {view}{order}").to_arrow_table())
            _release_current(self.con, entity)
            self._current_keys.pop(entity, None)
            pa.default_memory_pool().release_unused()
        return GoldenFrames(frames=frames, lineage=lineage, org_keys=self.keys["orgs"])


def decided_after(decided: datetime | None, when: datetime) -> bool:
    """Whether the last duplicate decision (``decided``, None for none) came after ``when``."""
    def utc(t: datetime) -> datetime:  # SQLite gives naive UTC, PostgreSQL aware times
        return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t
    return decided is not None and utc(decided) > utc(when)


def golden_frames(integration: Integration, version: Version, store: GoldenStore) -> GoldenFrames:
    """Every golden frame of the version."""
    with GoldenFrameSource(integration, version, store) as source:
        return source.frames()
