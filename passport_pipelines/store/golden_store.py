"""The golden store: committed records, versions and deliveries, behind one small API.

Everything a sync writes happens in ``commit`` inside one database transaction: the version
row, new and changed records, deletions and the change log. If anything fails the
transaction rolls back and the store is exactly as it was. Bulk rows move as Arrow tables;
PostgreSQL receives them through COPY, SQLite through executemany.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Connection, Engine, func, select, text, update

from passport_pipelines.changes.changeset import ChangeSet
from passport_pipelines.model import entities
from passport_pipelines.store import schema
from passport_pipelines.store.engine import create_store_engine, migrate

CHUNK = 100_000


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
    committed_at: datetime
    changes: dict
    filtered: dict
    archive_path: str | None
    run_id: str | None

    def as_dict(self) -> dict:
        return {
            "id": self.id, "district": self.district, "school_year": self.school_year, "version": self.number,
            "status": self.status, "mode": self.mode, "committed_by": self.committed_by,
            "committed_at": self.committed_at.isoformat() if self.committed_at else None,
            "changes": self.changes, "filtered": self.filtered, "archive_path": self.archive_path,
            "run_id": self.run_id,
        }


def _rows(table: pa.Table) -> Iterator[list[tuple]]:
    for start in range(0, table.num_rows, CHUNK):
        part = table.slice(start, CHUNK)
        yield list(zip(*(col.to_pylist() for col in part.columns)))


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
        v = schema.versions
        with self.engine.connect() as conn:
            row = conn.execute(
                select(v).where(v.c.district == district, v.c.school_year == school_year)
                .order_by(v.c.number.desc()).limit(1)
            ).mappings().first()
        return _version(row) if row else None

    def versions(self, district: str, school_year: str | None = None) -> list[Version]:
        v = schema.versions
        query = select(v).where(v.c.district == district)
        if school_year:
            query = query.where(v.c.school_year == school_year)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(v.c.school_year, v.c.number)).mappings().all()
        return [_version(r) for r in rows]

    def _arrow(self, sql: str, params: dict, names: list[str], types: dict[str, pa.DataType] | None = None) -> pa.Table:
        types = types or {}
        with self.engine.connect() as conn:
            result = conn.execute(text(sql), params)
            columns: list[list] = [[] for _ in names]
            while True:
                batch = result.fetchmany(CHUNK)
                if not batch:
                    break
                for i, col in enumerate(zip(*batch)):
                    columns[i].extend(col)
        arrays = {}
        for n, c in zip(names, columns):
            if types.get(n) == pa.bool_():
                # Booleans arrive as 0/1 from SQLite (and are selected as integers everywhere).
                arrays[n] = pa.array(c, type=pa.int8()).cast(pa.bool_())
            else:
                arrays[n] = pa.array(c, type=types.get(n, pa.string()))
        return pa.table(arrays)

    def stored_keys(self, district: str, school_year: str, entity: str, sources: list[str]) -> pa.Table:
        """Keys on record for these sources: what change detection compares against."""
        refs = sorted({col for parent, deps in entities.CASCADES.items() for child, col in deps
                       if child == entity and col != "sourced_id"})
        names = ["source", "sourced_id", "golden_id", "content_hash", "active", *refs]
        ref_sql = "".join(f", {r}" for r in refs)
        sql = (f"SELECT source, sourced_id, golden_id, content_hash, "
               f"CASE WHEN deleted_version IS NULL THEN 1 ELSE 0 END{ref_sql} "
               f"FROM {schema.golden_table_name(entity)} WHERE district = :district AND school_year = :school_year "
               f"AND source IN ({', '.join(f':s{i}' for i in range(len(sources)))})")
        params = {"district": district, "school_year": school_year, **{f"s{i}": s for i, s in enumerate(sources)}}
        table = self._arrow(sql, params, names, {"active": pa.bool_()})
        return table

    def stored_rows(self, district: str, school_year: str, entity: str, keys: pa.Table) -> pa.Table:
        """Full canonical rows for the given (source, sourced_id) keys."""
        cols = list(entities.columns(entity))
        bools = {c: pa.bool_() for c in entities.boolean_columns(entity)}
        out: list[pa.Table] = []
        pairs = list(zip(keys.column("source").to_pylist(), keys.column("sourced_id").to_pylist()))
        by_source: dict[str, list[str]] = {}
        for source, sid in pairs:
            by_source.setdefault(source, []).append(sid)
        for source, ids in by_source.items():
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                params = {"district": district, "school_year": school_year, "source": source,
                          **{f"k{i}": k for i, k in enumerate(chunk)}}
                sql = (f"SELECT {_select_list(cols, bools)} FROM {schema.golden_table_name(entity)} "
                       "WHERE district = :district AND school_year = :school_year AND source = :source "
                       f"AND sourced_id IN ({', '.join(f':k{i}' for i in range(len(chunk)))})")
                out.append(self._arrow(sql, params, cols, bools))
        if not out:
            return pa.table({c: pa.array([], type=bools.get(c, pa.string())) for c in cols})
        return pa.concat_tables(out)

    def current_records(self, district: str, school_year: str, entity: str) -> pa.Table:
        """The committed, not deleted records of an entity, with golden ids: what is delivered."""
        cols = ["golden_id", *entities.columns(entity)]
        bools = {c: pa.bool_() for c in entities.boolean_columns(entity)}
        sql = (f"SELECT {_select_list(cols, bools)} FROM {schema.golden_table_name(entity)} "
               "WHERE district = :district AND school_year = :school_year AND deleted_version IS NULL")
        return self._arrow(sql, {"district": district, "school_year": school_year}, cols, bools)

    def count_records(self, district: str, school_year: str) -> dict[str, int]:
        out = {}
        with self.engine.connect() as conn:
            for entity, table in schema.golden_tables.items():
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

    def commit(self, changes: ChangeSet, info: CommitInfo) -> Version:
        """Apply a change set as the next version, all or nothing."""
        try:
            version_id = self._commit(changes, info)
        except ConcurrentCommitError:
            raise
        except Exception as exc:
            # The driver's message may quote record values; the cause stays chained for operators.
            raise CommitFailedError(
                f"{info.district} {info.school_year}: commit rolled back ({type(exc).__name__}); "
                "the golden store is unchanged"
            ) from exc
        return self.version(version_id)

    def _commit(self, changes: ChangeSet, info: CommitInfo) -> int:
        v = schema.versions
        now = datetime.now(timezone.utc)
        with self.engine.begin() as conn:
            latest = conn.execute(
                select(v.c.id, v.c.number).where(v.c.district == info.district, v.c.school_year == info.school_year)
                .order_by(v.c.number.desc()).limit(1).with_for_update()
            ).first()
            latest_id = latest.id if latest else None
            if latest_id != info.base_version_id:
                raise ConcurrentCommitError(
                    f"{info.district} {info.school_year}: version {latest.number if latest else 0} was committed "
                    "while this sync ran; run the sync again"
                )
            number = (latest.number if latest else 0) + 1
            version_id = conn.execute(v.insert().values(
                district=info.district, school_year=info.school_year, number=number, run_id=info.run_id,
                status="pending propagation", mode=info.mode, committed_by=info.committed_by,
                started_at=info.started_at, committed_at=now, base_version_id=info.base_version_id,
                changes=changes.counts(), filtered=info.filtered, sources=info.sources,
                archive_path=info.archive_path,
            )).inserted_primary_key[0]
            for entity, ec in changes.entities.items():
                self._apply(conn, entity, ec, info, version_id)
        return version_id

    def _apply(self, conn: Connection, entity: str, ec, info: CommitInfo, version_id: int) -> None:
        table = schema.golden_tables[entity]
        canon = [c for c in entities.columns(entity) if c not in ("district", "school_year")]
        upserts = ec.upserts
        if upserts.num_rows:
            change = upserts.column("change")
            new = upserts.filter(pc.equal(change, "added"))
            old = upserts.filter(pc.not_equal(change, "added"))
            if new.num_rows:
                n = new.num_rows
                rows = pa.table({
                    "district": pa.array([info.district] * n, pa.string()),
                    "school_year": pa.array([info.school_year] * n, pa.string()),
                    **{c: new.column(c) for c in canon},
                    "golden_id": new.column("golden_id"),
                    "first_version": pa.array([version_id] * n, pa.int64()),
                    "last_version": pa.array([version_id] * n, pa.int64()),
                })
                self._bulk_insert(conn, table.name, rows)
            if old.num_rows:
                content = [c for c in canon if c not in ("source", "sourced_id")]
                sets = ", ".join(f"{_qi(c)} = :{_pn(c)}" for c in content)
                sql = (f"UPDATE {table.name} SET {sets}, last_version = :_v, deleted_version = NULL "
                       "WHERE district = :_d AND school_year = :_y AND source = :_s AND sourced_id = :_k")
                names = [*content, "source", "sourced_id"]
                part = old.select(names)
                for batch in _rows(part):
                    params = [{**{_pn(c): row[i] for i, c in enumerate(content)}, "_s": row[-2], "_k": row[-1],
                               "_v": version_id, "_d": info.district, "_y": info.school_year} for row in batch]
                    conn.execute(text(sql), params)
                self._log(conn, version_id, entity, old.select(["golden_id", "source", "sourced_id", "change",
                                                                  "changed_fields"]))
        deletes = ec.deletes
        if deletes.num_rows:
            sql = (f"UPDATE {table.name} SET deleted_version = :_v, last_version = :_v "
                   "WHERE district = :_d AND school_year = :_y AND source = :_s AND sourced_id = :_k")
            for batch in _rows(deletes.select(["source", "sourced_id"])):
                conn.execute(text(sql), [{"_s": s, "_k": k, "_v": version_id, "_d": info.district,
                                           "_y": info.school_year} for s, k in batch])
            n = deletes.num_rows
            log = pa.table({
                "golden_id": deletes.column("golden_id"), "source": deletes.column("source"),
                "sourced_id": deletes.column("sourced_id"), "change": pa.array(["deleted"] * n, pa.string()),
                "changed_fields": deletes.column("reason"),
            })
            self._log(conn, version_id, entity, log)

    def _log(self, conn: Connection, version_id: int, entity: str, rows: pa.Table) -> None:
        n = rows.num_rows
        table = pa.table({
            "version_id": pa.array([version_id] * n, pa.int64()),
            "entity": pa.array([entity] * n, pa.string()),
            **{c: rows.column(c) for c in ("golden_id", "source", "sourced_id", "change", "changed_fields")},
        })
        self._bulk_insert(conn, "record_changes", table)

    def _bulk_insert(self, conn: Connection, table_name: str, rows: pa.Table) -> None:
        cols = rows.column_names
        if self.is_postgres:
            raw = conn.connection.driver_connection
            with raw.cursor() as cur:
                with cur.copy(f"COPY {table_name} ({', '.join(_qi(c) for c in cols)}) FROM STDIN "
                              "WITH (FORMAT csv, HEADER true)") as copy:
                    for start in range(0, rows.num_rows, CHUNK):
                        buf = io.BytesIO()
                        pacsv.write_csv(rows.slice(start, CHUNK), buf,
                                        pacsv.WriteOptions(include_header=start == 0, quoting_style="needed"))
                        copy.write(buf.getvalue())
            return
        sql = f"INSERT INTO {table_name} ({', '.join(_qi(c) for c in cols)}) VALUES ({', '.join('?' * len(cols))})"
        cursor = conn.connection.driver_connection.cursor()
        try:
            for batch in _rows(rows):
                cursor.executemany(sql, batch)
        finally:
            cursor.close()

    # ---------------------------------------------------------------- status and deliveries

    def version(self, version_id: int) -> Version:
        v = schema.versions
        with self.engine.connect() as conn:
            return _version(conn.execute(select(v).where(v.c.id == version_id)).mappings().one())

    def set_status(self, version_id: int, status: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(schema.versions).where(schema.versions.c.id == version_id).values(status=status))

    def record_delivery(self, version_id: int, destination: str, fmt: str, path: str | None, rows: dict,
                        status: str, error: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(schema.deliveries.insert().values(
                version_id=version_id, destination=destination, format=fmt, path=path, rows=rows, status=status,
                delivered_at=datetime.now(timezone.utc), error=error))

    def deliveries(self, version_id: int) -> list[dict]:
        d = schema.deliveries
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(d).where(d.c.version_id == version_id)).mappings()]


def _qi(name: str) -> str:
    return '"' + name + '"'


def _select_list(cols: list[str], bools: dict) -> str:
    return ", ".join(f"CAST({_qi(c)} AS INTEGER)" if c in bools else _qi(c) for c in cols)


def _pn(name: str) -> str:
    return "p_" + name


def _version(row) -> Version:
    return Version(
        id=row["id"], district=row["district"], school_year=row["school_year"], number=row["number"],
        status=row["status"], mode=row["mode"], committed_by=row["committed_by"],
        committed_at=row["committed_at"], changes=row["changes"], filtered=row["filtered"],
        archive_path=row["archive_path"], run_id=row["run_id"],
    )
