"""The golden store: committed records, versions and deliveries, behind one small API.

Everything a sync writes happens in ``commit`` inside one database transaction: the version
row, new and changed records, deletions and the change log. If anything fails the
transaction rolls back and the store is exactly as it was. Bulk rows move as Arrow tables;
both databases receive them through ADBC (``arrow_connection.py``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Sequence

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine, func, select, update

from passport_pipelines.model import entities
from passport_pipelines.model.change_set import ChangeSet
from passport_pipelines.sql.quoting import ident, lit_list
from passport_pipelines.store import schema
from passport_pipelines.store.arrow_connection import ArrowConnection, const_array
from passport_pipelines.store.engine import create_store_engine, migrate
from passport_pipelines.store.version_status import APPROVED, AWAITING, COMMITTED, PENDING_PROPAGATION, REJECTED

REBUILD_INDEX_ROWS = 200_000

log = logging.getLogger(__name__)


class ConcurrentCommitError(RuntimeError):
    pass


class CommitFailedError(RuntimeError):
    """The commit was rolled back; the store is as it was before the sync."""


@dataclass(frozen=True)
class CommitInfo:
    district: str
    school_year: str
    run_id: str | None
    mode: str
    committed_by: str
    started_at: datetime
    base_version_id: int | None
    filtered: dict
    sources: dict
    archive_path: str | None


@dataclass(frozen=True)
class Version:
    id: int
    district: str
    school_year: str
    number: int
    status: str
    mode: str
    committed_by: str
    committed_at: datetime | None  # None while held, approved or rejected
    changes: dict
    filtered: dict
    archive_path: str | None
    run_id: str | None
    sources: dict
    started_at: datetime | None = None
    base_version_id: int | None = None
    hold: dict | None = None
    held_changes: dict | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None

    def as_dict(self) -> dict:
        def iso(t: datetime | None) -> str | None:
            return t.isoformat() if t else None
        return {
            "id": self.id, "district": self.district, "school_year": self.school_year, "version": self.number,
            "status": self.status, "mode": self.mode, "committed_by": self.committed_by,
            "started_at": iso(self.started_at), "committed_at": iso(self.committed_at),
            "changes": self.changes, "filtered": self.filtered, "archive_path": self.archive_path,
            "run_id": self.run_id, "sources": self.sources, "hold": self.hold,
            "decided_by": self.decided_by, "decided_at": iso(self.decided_at),
        }


class GoldenStore:
    def __init__(self, url: str, *, engine: Engine | None = None, run_migrations: bool = True):
        self.url = url
        self.engine = engine or create_store_engine(url)
        if run_migrations:
            migrate(self.engine)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def dispose(self) -> None:
        self.engine.dispose()

    # ---------------------------------------------------------------- reading

    def latest_version(self, district: str, school_year: str) -> Version | None:
        """The latest version whose records are in the store: what the next sync compares with.
        Held and rejected versions never are."""
        v = schema.versions
        with self.engine.connect() as conn:
            row = conn.execute(
                select(v).where(v.c.district == district, v.c.school_year == school_year,
                                v.c.status.in_(COMMITTED))
                .order_by(v.c.number.desc()).limit(1)
            ).mappings().first()
        return version_of_row(row) if row else None

    def versions(self, district: str, school_year: str | None = None) -> list[Version]:
        v = schema.versions
        query = select(v).where(v.c.district == district)
        if school_year:
            query = query.where(v.c.school_year == school_year)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(v.c.school_year, v.c.number)).mappings().all()
        return [version_of_row(r) for r in rows]

    def _schema(self, entity: str, names: list[str]) -> pa.Schema:
        bools = set(entities.boolean_columns(entity))
        return pa.schema([(n, pa.bool_() if n in bools or n == "active" else pa.string()) for n in names])

    def _select(self, entity: str, names: list[str], alias: str = "") -> str:
        bools = set(entities.boolean_columns(entity))
        prefix = f"{alias}." if alias else ""
        return ", ".join(f"CAST({prefix}{ident(c)} AS INTEGER) AS {ident(c)}" if c in bools else f"{prefix}{ident(c)}"
                         for c in names)

    def stored_keys(self, district: str, school_year: str, entity: str, sources: list[str], *,
                    empty: bool = False, only: pa.Table | None = None) -> pa.Table:
        """Keys on record for these sources: what change detection compares against. ``empty``: no
        rows, only the columns (for a caller that reads them later only if it needs them). ``only``:
        just the records of these (source, sourced_id) keys (a delta file's rows, against a million on
        record)."""
        refs = sorted({col for parent, deps in entities.CASCADES.items() for child, col in deps
                       if child == entity and col != "sourced_id"})
        names = ["source", "sourced_id", "golden_id", "content_hash", "active", *refs]
        if empty:
            return self._schema(entity, names).empty_table()
        columns = (f"t.source, t.sourced_id, t.golden_id, t.content_hash, "
                   f"CASE WHEN t.deleted_version IS NULL THEN 1 ELSE 0 END AS active{''.join(', t.' + r for r in refs)}")
        with ArrowConnection(self.url) as ac:
            table = f"{schema.golden_table_name(entity)} AS t" if only is None else _keyed(ac, entity, only)
            sql = (f"SELECT {columns} FROM {table} WHERE t.district = {ac.ph(1)} AND t.school_year = {ac.ph(2)} "
                   f"AND t.source IN ({ac.placeholders(len(sources), 3)})")
            return ac.fetch(sql, [district, school_year, *sources], self._schema(entity, names))

    def stored_rows(self, district: str, school_year: str, entity: str, keys: pa.Table, *,
                    current_only: bool = False) -> pa.Table:
        """Full canonical rows (as on record) for the given (source, sourced_id) keys.
        ``current_only``: not those marked deleted."""
        cols = list(entities.columns(entity))
        with ArrowConnection(self.url) as ac:
            sql = (f"SELECT {self._select(entity, cols, 't')} FROM {_keyed(ac, entity, keys)} "
                   f"WHERE t.district = {ac.ph(1)} AND t.school_year = {ac.ph(2)}"
                   + (" AND t.deleted_version IS NULL" if current_only else ""))
            return ac.fetch(sql, [district, school_year], self._schema(entity, cols))

    def current_records(self, district: str, school_year: str, entity: str,
                        columns: Sequence[str] | None = None, *, source: str | None = None) -> pa.Table:
        """The committed, not deleted records of an entity, with golden ids: what is delivered.
        ``columns``: only these (of ``golden_id`` and the canonical columns); ``source``: only its records."""
        cols = list(columns) if columns is not None else ["golden_id", *entities.columns(entity)]
        with ArrowConnection(self.url) as ac:
            sql = (f"SELECT {self._select(entity, cols)} FROM {schema.golden_table_name(entity)} "
                   f"WHERE district = {ac.ph(1)} AND school_year = {ac.ph(2)} AND deleted_version IS NULL"
                   + (f" AND source = {ac.ph(3)}" if source is not None else ""))
            return ac.fetch(sql, [district, school_year, *([source] if source is not None else [])],
                            self._schema(entity, cols))

    def all_records(self, district: str, school_year: str, entity: str, columns: Sequence[str]) -> pa.Table:
        """Every record of the entity, deleted or not: ``source``, ``sourced_id``, ``golden_id``,
        ``deleted_version`` and ``columns`` (canonical, not district or school year)."""
        cols = ["source", "sourced_id", "golden_id", *columns]
        with ArrowConnection(self.url) as ac:
            sql = (f"SELECT {self._select(entity, cols)}, deleted_version FROM {schema.golden_table_name(entity)} "
                   f"WHERE district = {ac.ph(1)} AND school_year = {ac.ph(2)}")
            return ac.fetch(sql, [district, school_year],
                            self._schema(entity, cols).append(pa.field("deleted_version", pa.int32())))

    def current_keys(self, district: str, school_year: str, entity: str, *, merged: bool = False,
                     flagged: bool = False) -> pa.Table:
        """(source, sourced_id, golden_id) of the committed, not deleted records of an entity.
        ``merged``: also deleted records that share a golden id with a current one (a duplicate a
        reviewer deleted), so that what still points at them reaches the person they were.
        ``flagged``: with a boolean ``current`` column, false on the deleted records ``merged`` adds."""
        names = ["source", "sourced_id", "golden_id"]
        table = schema.golden_table_name(entity)
        with ArrowConnection(self.url) as ac:
            also = (f" OR golden_id IN (SELECT golden_id FROM {table} WHERE district = {ac.ph(3)} "
                    f"AND school_year = {ac.ph(4)} AND deleted_version IS NULL)") if merged else ""
            flag = ", deleted_version IS NULL AS current" if flagged else ""
            sql = (f"SELECT source, sourced_id, golden_id{flag} FROM {table} "
                   f"WHERE district = {ac.ph(1)} AND school_year = {ac.ph(2)} AND (deleted_version IS NULL{also})")
            params = [district, school_year] * (2 if merged else 1)
            fields = [(n, pa.string()) for n in names] + ([("current", pa.bool_())] if flagged else [])
            return ac.fetch(sql, params, pa.schema(fields))

    def count_records(self, district: str, school_year: str, only: Sequence[str] | None = None) -> dict[str, int]:
        """Current (not deleted) records per entity (``only``: of these entities)."""
        out = {}
        with self.engine.connect() as conn:
            for entity, table in schema.golden_tables.items():
                if only is not None and entity not in only:
                    continue
                out[entity] = conn.execute(
                    select(func.count()).select_from(table).where(
                        table.c.district == district, table.c.school_year == school_year,
                        table.c.deleted_version.is_(None))
                ).scalar_one()
        return out

    def record_changes(self, version_id: int) -> list[dict]:
        rc = schema.record_changes
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(rc).where(rc.c.version_id == version_id)).mappings()]

    # ---------------------------------------------------------------- writing

    def commit(self, changes: ChangeSet, info: CommitInfo, *,
               also: Sequence[Callable[[ArrowConnection, int], None]] = (),
               approved_version_id: int | None = None) -> Version:
        """Apply a change set as the next version, all or nothing. Each of ``also`` writes more
        (e.g. SSO credentials) in the same transaction, given the connection and the version id.
        ``approved_version_id``: the held version this change set is, now approved; it becomes
        the committed version (same number) instead of a new one."""
        try:
            version_id = self._commit(changes, info, also, approved_version_id)
        except ConcurrentCommitError:
            raise
        except Exception as exc:
            # The driver's message may quote record values; the cause stays chained for operators.
            raise CommitFailedError(
                f"{info.district} {info.school_year}: commit rolled back ({type(exc).__name__}); "
                "the golden store is unchanged"
            ) from exc
        return self.version(version_id)

    def _commit(self, changes: ChangeSet, info: CommitInfo,
                also: Sequence[Callable[[ArrowConnection, int], None]] = (),
                approved_version_id: int | None = None) -> int:
        now = datetime.now(timezone.utc)
        loaded: list[str] = []  # tables a big load changed, whose planner statistics are then stale
        with ArrowConnection(self.url) as ac, ac.transaction():
            number = self.check_base(ac, info.district, info.school_year, info.base_version_id)
            if approved_version_id is None:
                version_id = self.insert_version(ac, info, number, PENDING_PROPAGATION, now, changes)
            else:
                version_id = self._commit_approved(ac, info, approved_version_id, now)
                number = int(ac.scalar(f"SELECT number FROM versions WHERE id = {ac.ph(1)}", [version_id]))
            self.supersede_awaiting(ac, info, keep=version_id, number=number)
            for entity, entity_changes in changes.loaded():
                # Applied, then released (the next entity is being read meanwhile).
                if self._apply(ac, entity, entity_changes, info, version_id) >= REBUILD_INDEX_ROWS:
                    loaded.append(schema.golden_table_name(entity))
                del entity_changes
                pa.default_memory_pool().release_unused()
            for write in also:
                write(ac, version_id)
        if loaded:
            self._analyze(loaded)
        return version_id

    def _analyze(self, tables: list[str]) -> None:
        """PostgreSQL plans by its statistics of a table, which still describe it as it was before a big
        load until autovacuum gets round to it: a delta's key lookups planned against "one row" after a
        first sync of a million students scanned the whole table per key. SQLite plans without them."""
        try:
            with ArrowConnection(self.url) as ac:
                if ac.backend == "postgresql":
                    with ac.transaction():  # the statistics are kept only if it commits
                        for table in tables:
                            ac.execute(f"ANALYZE {ident(table)}")
        except Exception as exc:  # the version is committed: stale statistics only cost speed until autovacuum
            log.warning("could not refresh the planner statistics of %s after the commit (%s)",
                        ", ".join(tables), type(exc).__name__)

    def check_base(self, ac: ArrowConnection, district: str, school_year: str, base_version_id: int | None) -> int:
        """Inside a write transaction: raise unless the latest committed version is still the one
        the change set was computed against (locked on PostgreSQL until the commit); the next
        version number."""
        lock = ""
        if ac.backend == "postgresql":
            # One writer per district and year until this transaction ends, even before its first
            # version exists (FOR UPDATE alone has no row to lock then). SQLite's BEGIN IMMEDIATE
            # already admits one writer at a time.
            ac.execute(f"SELECT pg_advisory_xact_lock(hashtextextended({ac.ph(1)}, 0))",
                       [f"passport:{district}:{school_year}"])
            lock = " FOR UPDATE"
        committed = lit_list(COMMITTED)
        latest = ac.fetch(
            f"SELECT id, number FROM versions WHERE district = {ac.ph(1)} AND school_year = {ac.ph(2)} "
            f"AND status IN ({committed}) ORDER BY number DESC LIMIT 1{lock}", [district, school_year]).to_pylist()
        latest_id = latest[0]["id"] if latest else None
        if latest_id != base_version_id:
            raise ConcurrentCommitError(
                f"{district} {school_year}: version {latest[0]['number'] if latest else 0} was "
                "committed while this sync ran (or after it was held); run the sync again"
            )
        top = ac.scalar(f"SELECT MAX(number) FROM versions WHERE district = {ac.ph(1)} AND school_year = {ac.ph(2)}",
                        [district, school_year])
        return int(top or 0) + 1

    def _commit_approved(self, ac: ArrowConnection, info: CommitInfo, version_id: int, now: datetime) -> int:
        status = ac.scalar(f"SELECT status FROM versions WHERE id = {ac.ph(1)} AND district = {ac.ph(2)} "
                           f"AND school_year = {ac.ph(3)}", [version_id, info.district, info.school_year])
        if status != APPROVED:
            raise ConcurrentCommitError(
                f"{info.district} {info.school_year}: version id {version_id} is {status or 'not there'}, "
                "not approved; only an approved held version is committed")
        ac.execute(f"UPDATE versions SET status = {ac.ph(1)}, committed_at = {ac.value_ph(2, now)}, run_id = {ac.ph(3)}, "
                   f"held_changes = NULL WHERE id = {ac.ph(4)}",
                   [PENDING_PROPAGATION, ac.param(now), info.run_id, version_id])
        return version_id

    def supersede_awaiting(self, ac: ArrowConnection, info: CommitInfo, *, keep: int, number: int) -> None:
        """A later sync replaces any version still held (or approved and not yet committed): the
        district decides on the newest data, never on a stale change set."""
        awaiting = lit_list(AWAITING)
        ac.execute(f"UPDATE versions SET status = {ac.ph(1)}, decided_by = {ac.ph(2)}, held_changes = NULL "
                   f"WHERE district = {ac.ph(3)} AND school_year = {ac.ph(4)} AND id <> {ac.ph(5)} "
                   f"AND status IN ({awaiting})",
                   [REJECTED, f"superseded by version {number}", info.district, info.school_year, keep])

    def insert_version(self, ac: ArrowConnection, info: CommitInfo, number: int, status: str, now: datetime,
                        changes: ChangeSet | dict, **more) -> int:
        """``changes``: the change set, or its counts; ``more``: further columns (a held version's)."""
        values = {
            "district": info.district, "school_year": info.school_year, "number": number, "run_id": info.run_id,
            "status": status, "mode": info.mode, "committed_by": info.committed_by,
            "started_at": info.started_at, "committed_at": now if status in COMMITTED else None,
            "base_version_id": info.base_version_id,
            "changes": changes if isinstance(changes, dict) else changes.counts(), "filtered": info.filtered,
            "sources": info.sources, "archive_path": info.archive_path, **more,
        }
        cols, exprs, params = [], [], []
        for name, value in values.items():
            cols.append(name)
            if value is None:
                exprs.append("NULL")
                continue
            params.append(ac.param(value))
            exprs.append(ac.value_ph(len(params), value))
        return int(ac.scalar(f"INSERT INTO versions ({', '.join(cols)}) VALUES ({', '.join(exprs)}) RETURNING id",
                             params))

    def _apply(self, ac: ArrowConnection, entity: str, ec, info: CommitInfo, version_id: int) -> int:
        """Write the entity's changes; returns how many records it added."""
        table = schema.golden_table_name(entity)
        canon = [c for c in entities.columns(entity) if c not in ("district", "school_year")]
        content = [c for c in canon if c not in ("source", "sourced_id")]
        upserts, added = ec.upserts, 0
        if upserts.num_rows:
            change = upserts.column("change")
            if pc.all(pc.equal(change, "added")).as_py():  # a first sync: no copy of every row to split them
                new, old = upserts, upserts.slice(0, 0)
            else:
                new = upserts.filter(pc.equal(change, "added"))
                old = upserts.filter(pc.not_equal(change, "added"))
            n = added = new.num_rows
            # A big load is faster into a table without its random-order golden_id index, which is
            # then rebuilt once, sorted. Inside the transaction, so a failure restores it too.
            index = schema.golden_id_index(entity)
            rebuild = index is not None and n >= REBUILD_INDEX_ROWS
            if rebuild:
                ac.execute(f"DROP INDEX {ident(index)}")
            ac.ingest(table, pa.table({
                "district": const_array(info.district, n), "school_year": const_array(info.school_year, n),
                **{c: new.column(c) for c in canon},
                "golden_id": new.column("golden_id"),
                "first_version": const_array(version_id, n, pa.int32()),
                "last_version": const_array(version_id, n, pa.int32()),
            }))
            del new
            if rebuild:
                ac.execute(f"CREATE INDEX {ident(index)} ON {table} (golden_id)")
            m = old.num_rows
            # The golden id too: a district school on record under its source's own golden id moves
            # to the district school's (``compute_entity_changes``); any other keeps the one on record.
            content = [*content, "golden_id"]
            sets = ", ".join(f"{ident(c)} = {ac.ph(i)}" for i, c in enumerate(content, start=1))
            k = len(content)
            ac.execute_many(
                f"UPDATE {table} SET {sets}, last_version = {ac.ph(k + 1)}, deleted_version = NULL "
                f"WHERE district = {ac.ph(k + 2)} AND school_year = {ac.ph(k + 3)} AND source = {ac.ph(k + 4)} "
                f"AND sourced_id = {ac.ph(k + 5)}",
                pa.table({**{c: old.column(c) for c in content}, "_v": const_array(version_id, m, pa.int32()),
                          "_d": const_array(info.district, m), "_y": const_array(info.school_year, m),
                          "_s": old.column("source"), "_k": old.column("sourced_id")}),
            )
            self._log(ac, version_id, entity, old.select(["golden_id", "source", "sourced_id", "change",
                                                        "changed_fields"]))
        deletes = ec.deletes
        if deletes.num_rows:
            n = deletes.num_rows
            ac.execute_many(
                f"UPDATE {table} SET deleted_version = {ac.ph(1)}, last_version = {ac.ph(2)} "
                f"WHERE district = {ac.ph(3)} AND school_year = {ac.ph(4)} AND source = {ac.ph(5)} "
                f"AND sourced_id = {ac.ph(6)}",
                pa.table({"_v": const_array(version_id, n, pa.int32()), "_l": const_array(version_id, n, pa.int32()),
                          "_d": const_array(info.district, n), "_y": const_array(info.school_year, n),
                          "_s": deletes.column("source"), "_k": deletes.column("sourced_id")}),
            )
            self._log(ac, version_id, entity, pa.table({
                "golden_id": deletes.column("golden_id"), "source": deletes.column("source"),
                "sourced_id": deletes.column("sourced_id"), "change": const_array("deleted", n),
                "changed_fields": deletes.column("reason"),
            }))
        return added

    def _log(self, ac: ArrowConnection, version_id: int, entity: str, rows: pa.Table) -> None:
        n = rows.num_rows
        ac.ingest("record_changes", pa.table({
            "version_id": const_array(version_id, n, pa.int32()), "entity": const_array(entity, n),
            **{c: rows.column(c).cast(pa.string()) for c in ("golden_id", "source", "sourced_id", "change",
                                                             "changed_fields")},
        }))

    # ---------------------------------------------------------------- status and deliveries

    def version(self, version_id: int) -> Version:
        v = schema.versions
        with self.engine.connect() as conn:
            return version_of_row(conn.execute(select(v).where(v.c.id == version_id)).mappings().one())

    def set_status(self, version_id: int, status: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(schema.versions).where(schema.versions.c.id == version_id).values(status=status))

    def record_delivery(self, version_id: int, destination: str, fmt: str, path: str | None, rows: dict,
                        status: str, error: str | None = None, checksum: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(schema.deliveries.insert().values(
                version_id=version_id, destination=destination, format=fmt, path=path, rows=rows, status=status,
                delivered_at=datetime.now(timezone.utc), error=error, checksum=checksum))

    def deliveries(self, version_id: int) -> list[dict]:
        d = schema.deliveries
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(d).where(d.c.version_id == version_id).order_by(d.c.id))
                    .mappings()]


def version_of_row(row) -> Version:
    return Version(
        id=row["id"], district=row["district"], school_year=row["school_year"], number=row["number"],
        status=row["status"], mode=row["mode"], committed_by=row["committed_by"],
        committed_at=row["committed_at"], changes=row["changes"], filtered=row["filtered"],
        archive_path=row["archive_path"], run_id=row["run_id"], sources=row["sources"] or {},
        started_at=row["started_at"], base_version_id=row["base_version_id"], hold=row["hold"],
        held_changes=row["held_changes"], decided_by=row["decided_by"], decided_at=row["decided_at"],
    )


def _keyed(ac: ArrowConnection, entity: str, keys: pa.Table) -> str:
    """A FROM clause of the entity's golden table (``t``) limited to the given (source, sourced_id) keys.
    The few wanted keys drive the loop, each a primary-key lookup: SQLite would otherwise scan the whole
    golden table against an unindexed temporary table (minutes at a million), and its CROSS JOIN keeps the
    order as written."""
    ac.ingest("wanted_keys", keys.select(["source", "sourced_id"]), temporary=True)
    join = "CROSS JOIN" if ac.backend == "sqlite" else "JOIN"
    return (f"wanted_keys AS w {join} {schema.golden_table_name(entity)} AS t "
            "ON t.source = w.source AND t.sourced_id = w.sourced_id")
