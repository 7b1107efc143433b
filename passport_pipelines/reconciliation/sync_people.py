"""The people a sync searches duplicates among, prepared for the engine: from the cache of the last
committed sync when it is valid (``people_cache.py``), else from the store (``person_records.py``).

Either way the result is the same: every user current after this sync, with the attributes the
domains compare (birth date and sex from demographics). From the cache, only what the sync touched
is read and coded:

- users it adds or changes: changed in place when the cache has them, appended when it does not;
- users it deletes: dropped;
- demographics it adds, changes or deletes: the birth date and sex of their user re-coded;
- a user new to the cache whose demographics this sync leaves alone (a record a reviewer deleted
  comes back, say): its demographics as on record, looked up by key.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from passport_pipelines.reconciliation import people_cache
from passport_pipelines.reconciliation.linkage.records import PreparedRecords, prepare
from passport_pipelines.reconciliation.linkage.revision import revise
from passport_pipelines.reconciliation.people_cache import CachedPeople
from passport_pipelines.reconciliation.person_records import (
    DEMOGRAPHIC_ATTRIBUTES,
    attribute_sql,
    person_records,
    record_key_sql,
)
from passport_pipelines.sql.quoting import ident, lit
from passport_pipelines.store.duplicate_review import RECORD_KEY_SEPARATOR
from passport_pipelines.store.golden_store import GoldenStore

IDS = ("record_key", "golden_id", "on_record")


@dataclass
class SyncPeople:
    """``ids``: record_key, golden_id, on_record (its golden id is in the store already), row for row
    with ``prepared``'s positions; ``new_keys``: the records this sync adds, restores or changes
    (compared with everyone); ``cache``: "used", or why the store was read instead."""

    ids: pa.Table
    prepared: PreparedRecords
    new_keys: pa.Array
    cache: str
    decisions: list[int] = field(default_factory=list)  # ``people_cache.decisions_marker`` before reading
    seconds: dict[str, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return self.ids.num_rows


def sync_people(con: duckdb.DuckDBPyConnection, store: GoldenStore, *, district: str, school_year: str,
                change_folders: list[Path], attributes: list[str], base_version_id: int | None) -> SyncPeople:
    started = time.perf_counter()
    # Taken before anything is read: a decision made while this sync runs invalidates what it caches.
    decisions = people_cache.decisions_marker(store, district, school_year)
    cached, why = people_cache.load(store, district, school_year, attributes=attributes,
                                    base_version_id=base_version_id, decisions=decisions)
    if cached is not None:
        people = _from_cache(con, store, cached, district=district, school_year=school_year,
                             change_folders=change_folders, attributes=attributes)
    else:
        people = _from_store(con, store, district=district, school_year=school_year, change_folders=change_folders,
                             attributes=attributes)
    people.cache, people.decisions = why, decisions
    people.seconds = {"people": round(time.perf_counter() - started, 3)}
    return people


def _from_store(con, store, *, district, school_year, change_folders, attributes) -> SyncPeople:
    table = person_records(con, store, district=district, school_year=school_year, change_folders=change_folders,
                           attributes=attributes)
    # Input order, not key order: the cache keeps these positions row for row with the ids.
    prepared = prepare(table, [], attributes, key_order=False)
    new_keys = table.filter(table.column("is_new")).column("record_key").combine_chunks()
    return SyncPeople(table.select(list(IDS)), prepared, new_keys, cache="")


def _parquet_list(folders: list[Path], name: str) -> str:
    return "[" + ", ".join(lit(str(f / name)) for f in folders) + "]"


def _slots(keys: pa.Array, wanted: pa.Array) -> np.ndarray:
    """For each of ``keys``, its index in ``wanted``, or -1. ``keys`` may be the million cached keys:
    they are probed into a hash set of the few ``wanted`` ones."""
    return pc.index_in(keys, value_set=wanted).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _column(table: pa.Table, name: str) -> pa.Array:
    return table.column(name).combine_chunks()


def _pick(column: pa.Array, slots: np.ndarray) -> pa.Array:
    """``column[slot]`` per slot, null where the slot is -1."""
    return column.take(pa.array(slots, mask=slots < 0))


@dataclass
class _Touched:
    """What the sync's change set does to people (all sources): upserted users (record_key,
    golden_id, on_record and the attributes of the user row), deleted users' keys, upserted
    demographics (record_key and birth date, sex...), deleted demographics' keys."""

    users: pa.Table
    deleted_users: pa.Array
    demographics: pa.Table
    deleted_demographics: pa.Array

    @classmethod
    def read(cls, con, folders: list[Path], personal: list[str], demographic: list[str]) -> "_Touched":
        def keys(name: str) -> pa.Array:
            return con.execute(f"SELECT {record_key_sql('t')} AS record_key "
                               f"FROM read_parquet({_parquet_list(folders, name)}) AS t").to_arrow_table().column(
                "record_key").combine_chunks()

        # The same expressions as ``person_records``, over the sync's own rows only.
        users = con.execute(f"""
            SELECT {", ".join([f"{record_key_sql('u')} AS record_key", "u.golden_id",
                               "u.change <> 'added' AS on_record", *_attributes(personal)])}
            FROM read_parquet({_parquet_list(folders, "upserts__users.parquet")}) AS u""").to_arrow_table()
        demographics = con.execute(f"""
            SELECT {", ".join([f"{record_key_sql('d')} AS record_key", *_attributes(demographic)])}
            FROM read_parquet({_parquet_list(folders, "upserts__demographics.parquet")}) AS d""").to_arrow_table()
        return cls(users, keys("deletes__users.parquet"), demographics, keys("deletes__demographics.parquet"))

    def demographics_of(self, keys: pa.Array, demographic: list[str]) -> dict[str, tuple[np.ndarray, pa.Array]]:
        """For the users with these keys whose demographics this sync upserts or deletes: per
        attribute, their positions in ``keys`` (ascending) and values (null when deleted). An
        upsert wins over a delete, as in person_records."""
        slots = _slots(keys, _column(self.demographics, "record_key"))
        deleted = pc.is_in(keys, value_set=self.deleted_demographics).to_numpy(zero_copy_only=False)
        touched = np.flatnonzero((slots >= 0) | deleted)
        return {a: (touched, _pick(_column(self.demographics, a), slots[touched])) for a in demographic}


def _attributes(names: list[str]) -> list[str]:
    return [f"CAST({attribute_sql(a, 'u', 'd')} AS VARCHAR) AS {ident(a)}" for a in names]


def _from_cache(con, store: GoldenStore, cached: CachedPeople, *, district, school_year, change_folders,
                attributes) -> SyncPeople:
    demographic = [a for a in attributes if a in DEMOGRAPHIC_ATTRIBUTES]
    personal = [a for a in attributes if a not in DEMOGRAPHIC_ATTRIBUTES]
    touched = _Touched.read(con, change_folders, personal, demographic)
    users = touched.users
    keys = cached.prepared.keys
    slots = _slots(keys, _column(users, "record_key"))
    in_place = np.flatnonzero(slots >= 0)  # cached users the sync changes: re-coded where they are
    from_users = slots[in_place]
    appended = np.ones(users.num_rows, dtype=bool)
    appended[from_users] = False  # users new to the cache: appended
    keep = ~pc.is_in(keys, value_set=touched.deleted_users).to_numpy(zero_copy_only=False)
    keep[in_place] = True  # an upsert wins over a delete, as in person_records

    changed = {a: (in_place, _column(users, a).take(from_users)) for a in personal}
    changed.update(touched.demographics_of(keys, demographic))
    added = users.filter(pa.array(appended))
    added = _with_columns(added, _added_demographics(store, touched, added.column("record_key").combine_chunks(),
                                                     district=district, school_year=school_year,
                                                     demographic=demographic))
    prepared = revise(cached.prepared, keep=keep, changed=changed, added=added.select(["record_key", *attributes]))

    # Ids as person_records has them: golden id and on_record of a changed user from its upsert.
    golden = cached.ids.column("golden_id").combine_chunks()
    on_record = np.ones(len(keys), dtype=bool)
    if len(in_place):
        mask = np.zeros(len(keys), dtype=bool)
        mask[in_place] = True
        # replace_with_mask fills in position order: in_place is ascending.
        golden = pc.replace_with_mask(golden, pa.array(mask), _column(users, "golden_id").take(from_users))
        on_record[in_place] = _column(users, "on_record").to_numpy(zero_copy_only=False)[from_users]
    kept = pa.array(keep)
    ids = pa.table({
        "record_key": pa.concat_arrays([keys.filter(kept), added.column("record_key").combine_chunks()]),
        "golden_id": pa.concat_arrays([golden.filter(kept), added.column("golden_id").combine_chunks()]),
        "on_record": pa.concat_arrays([pa.array(on_record[keep]), added.column("on_record").combine_chunks()]),
    })
    return SyncPeople(ids, prepared, users.column("record_key").combine_chunks(), cache="used")


def _added_demographics(store: GoldenStore, touched: _Touched, keys: pa.Array, *, district, school_year,
                        demographic: list[str]) -> dict[str, pa.Array]:
    """Birth date and sex of users new to the cache: as this sync has them, none when it deletes
    them, else as on record (looked up for these few users only)."""
    if not demographic:
        return {}
    from_sync = touched.demographics_of(keys, demographic)
    rows = from_sync[demographic[0]][0]  # the same users for every attribute
    by_sync = np.zeros(len(keys), dtype=bool)
    by_sync[rows] = True
    stored = _stored_demographics(store, keys.filter(pa.array(~by_sync)), district=district, school_year=school_year,
                                  demographic=demographic)
    stored_slots = _slots(keys, _column(stored, "record_key"))
    # replace_with_mask fills in position order: the touched rows are ascending.
    return {a: pc.replace_with_mask(_pick(_column(stored, a), stored_slots), pa.array(by_sync), from_sync[a][1])
            for a in demographic}


def _with_columns(table: pa.Table, columns: dict[str, pa.Array]) -> pa.Table:
    for name, column in columns.items():
        table = table.append_column(name, column)
    return table


def _stored_demographics(store: GoldenStore, keys: pa.Array, *, district, school_year,
                         demographic: list[str]) -> pa.Table:
    """Current stored demographics of the users with these record keys."""
    if len(keys) == 0:
        return pa.table({name: pa.array([], pa.string()) for name in ["record_key", *demographic]})
    split = pc.split_pattern(keys, RECORD_KEY_SEPARATOR, max_splits=1)
    wanted = pa.table({"source": pc.list_element(split, 0), "sourced_id": pc.list_element(split, 1)})
    rows = store.stored_rows(district, school_year, "demographics", wanted, current_only=True)
    con = duckdb.connect()
    try:
        con.register("stored_demographics", rows)
        return con.execute(f"SELECT {record_key_sql('d')} AS record_key, {', '.join(_attributes(demographic))} "
                           "FROM stored_demographics AS d").to_arrow_table()
    finally:
        con.close()
