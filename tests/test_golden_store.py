"""The golden store on SQLite and PostgreSQL: migrations, atomic commits, concurrent syncs."""

from __future__ import annotations

from datetime import datetime, timezone

import pyarrow as pa
import pytest
import sqlalchemy as sa

from passport_pipelines.model import entities
from passport_pipelines.model.change_set import ChangeSet, EntityChanges
from passport_pipelines.store import schema
from passport_pipelines.store.golden_store import CommitFailedError, CommitInfo, ConcurrentCommitError, GoldenStore


def _users(ids: list[str], change: str = "added", given: str = "Ada") -> pa.Table:
    n = len(ids)
    cols = {}
    for c in entities.columns("users"):
        if c == "sourced_id":
            cols[c] = pa.array(ids)
        elif c == "source":
            cols[c] = pa.array(["sis"] * n)
        elif c == "district":
            cols[c] = pa.array(["lakeside"] * n)
        elif c == "school_year":
            cols[c] = pa.array(["2025-2026"] * n)
        elif c == "status":
            cols[c] = pa.array(["active"] * n)
        elif c == "enabled_user":
            cols[c] = pa.array([True] * n)
        elif c == "role":
            cols[c] = pa.array(["student"] * n)
        elif c == "given_name":
            cols[c] = pa.array([given] * n)
        elif c == "family_name":
            cols[c] = pa.array(["Lovelace"] * n)
        elif c == "content_hash":
            cols[c] = pa.array([("h" + given).ljust(32, "0")] * n)
        else:
            cols[c] = pa.nulls(n, pa.string())
    cols["golden_id"] = pa.array([f"usr-{i}" for i in ids])
    cols["change"] = pa.array([change] * n)
    cols["changed_fields"] = pa.array(["given_name" if change == "updated" else None] * n, pa.string())
    return pa.table(cols)


def _no_deletes() -> pa.Table:
    return pa.table({"source": pa.array([], pa.string()), "sourced_id": pa.array([], pa.string()),
                     "golden_id": pa.array([], pa.string()), "reason": pa.array([], pa.string())})


def _info(base: int | None) -> CommitInfo:
    return CommitInfo(district="lakeside", school_year="2025-2026", run_id="r", mode="full", committed_by="test",
                      started_at=datetime.now(timezone.utc), base_version_id=base, filtered={}, sources={},
                      archive_path=None)


def test_migrations_create_the_schema_once(store_url):
    store = GoldenStore(store_url)
    GoldenStore(store_url)  # a second open finds the schema up to date
    names = set(sa.inspect(store.engine).get_table_names())
    assert {"versions", "record_changes", "deliveries", "sso_credentials", "duplicate_cases", "duplicate_decisions",
            "alembic_version", "api_clients", "api_usage"} <= names
    assert {f"golden_{e}" for e in entities.ENTITIES} <= names
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == "0015"


def test_golden_id_indexes_only_where_records_are_read_by_golden_id(store_url):
    """The migrations leave exactly the indexes the schema declares: a golden id index on the tables a
    person's or a merged record's golden id is looked up in, none on the others (upkeep at every commit)."""
    store = GoldenStore(store_url)
    inspector = sa.inspect(store.engine)
    for entity in entities.ENTITIES:
        found = {i["name"] for i in inspector.get_indexes(schema.golden_table_name(entity))}
        declared = {i.name for i in schema.golden_tables[entity].indexes}
        assert found == declared, entity
    assert schema.golden_id_index("users") in {i["name"] for i in inspector.get_indexes("golden_users")}
    assert not inspector.get_indexes("golden_enrollments")


def test_commit_then_update_then_delete(store_url):
    store = GoldenStore(store_url)
    v1 = store.commit(ChangeSet({"users": EntityChanges(_users(["u1", "u2"]), _no_deletes())}), _info(None))
    assert v1.number == 1 and v1.changes["users"] == {"added": 2, "updated": 0, "deleted": 0}
    v2 = store.commit(ChangeSet({"users": EntityChanges(_users(["u1"], "updated", "Grace"), pa.table({
        "source": ["sis"], "sourced_id": ["u2"], "golden_id": ["usr-u2"], "reason": ["missing"]}))}), _info(v1.id))
    current = store.current_records("lakeside", "2025-2026", "users").to_pylist()
    assert [(r["sourced_id"], r["given_name"], r["enabled_user"]) for r in current] == [("u1", "Grace", True)]
    log = {(c["sourced_id"], c["change"], c["changed_fields"]) for c in store.record_changes(v2.id)}
    assert log == {("u1", "updated", "given_name"), ("u2", "deleted", "missing")}
    keys = store.stored_keys("lakeside", "2025-2026", "users", ["sis"]).to_pylist()
    assert {(k["sourced_id"], k["active"]) for k in keys} == {("u1", True), ("u2", False)}


def test_stored_keys_of_named_records_only(store_url):
    """A delta file's change set reads the keys of the records it names, not the whole table on record:
    the same rows, deleted ones too (a delta may restore them), and nothing for a key never on record."""
    store = GoldenStore(store_url)
    v1 = store.commit(ChangeSet({"users": EntityChanges(_users(["u1", "u2", "u3"]), _no_deletes())}), _info(None))
    store.commit(ChangeSet({"users": EntityChanges(_users([]), pa.table({
        "source": ["sis"], "sourced_id": ["u2"], "golden_id": ["usr-u2"], "reason": ["missing"]}))}), _info(v1.id))
    named = pa.table({"source": ["sis", "sis", "sis"], "sourced_id": ["u2", "u3", "u9"]})
    every = store.stored_keys("lakeside", "2025-2026", "users", ["sis"])
    only = store.stored_keys("lakeside", "2025-2026", "users", ["sis"], only=named)
    assert only.schema == every.schema
    assert sorted(only.to_pylist(), key=lambda k: k["sourced_id"]) == \
        sorted((k for k in every.to_pylist() if k["sourced_id"] in {"u2", "u3"}), key=lambda k: k["sourced_id"])
    assert {(k["sourced_id"], k["active"]) for k in only.to_pylist()} == {("u2", False), ("u3", True)}


def test_a_big_load_leaves_postgresql_statistics_that_describe_it(store_url, monkeypatch):
    """After a first sync's bulk load PostgreSQL must not plan by statistics of the empty table (a delta's key
    lookups then scanned a million users per key); SQLite keeps none to refresh."""
    if not store_url.startswith("postgresql"):
        pytest.skip("PostgreSQL keeps planner statistics; SQLite plans without them")
    from passport_pipelines.store import golden_store

    monkeypatch.setattr(golden_store, "REBUILD_INDEX_ROWS", 3)  # "big" at the size of a test
    store = GoldenStore(store_url)
    store.commit(ChangeSet({"users": EntityChanges(_users(["u1", "u2", "u3"]), _no_deletes())}), _info(None))
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as conn:
            # Column statistics (what the planner estimates a district's rows by) exist once analyzed.
            analyzed = conn.execute(sa.text(
                "SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = current_schema() "
                "AND tablename LIKE 'golden_%'")).scalars().all()
    finally:
        engine.dispose()
    assert analyzed == ["golden_users"]  # and not the tables the commit loaded nothing into


def test_a_failing_commit_rolls_back_everything(store_url):
    store = GoldenStore(store_url)
    store.commit(ChangeSet({"users": EntityChanges(_users(["u1"]), _no_deletes())}), _info(None))
    before = (store.count_records("lakeside", "2025-2026"), [v.number for v in store.versions("lakeside")])
    base = store.latest_version("lakeside", "2025-2026").id
    # u2 is inserted, then u1 collides with the record on file: the whole version must vanish.
    bad = ChangeSet({"users": EntityChanges(_users(["u2", "u1"]), _no_deletes())})
    with pytest.raises(CommitFailedError, match="rolled back"):
        store.commit(bad, _info(base))
    assert (store.count_records("lakeside", "2025-2026"), [v.number for v in store.versions("lakeside")]) == before


def test_a_sync_based_on_a_stale_version_is_refused(store_url):
    store = GoldenStore(store_url)
    store.commit(ChangeSet({"users": EntityChanges(_users(["u1"]), _no_deletes())}), _info(None))
    with pytest.raises(ConcurrentCommitError, match="run the sync again"):
        store.commit(ChangeSet({"users": EntityChanges(_users(["u2"]), _no_deletes())}), _info(None))
    assert store.count_records("lakeside", "2025-2026")["users"] == 1


def test_a_change_set_is_read_one_entity_ahead_of_the_commit_never_all_at_once():
    import threading
    lock, loading, in_memory, seen = threading.Lock(), threading.Event(), [], []

    def loader(entity: str):
        def load() -> EntityChanges:
            with lock:
                in_memory.append(entity)
                seen.append(list(in_memory))
            if entity == "users":
                loading.set()
            return EntityChanges(_users([entity]), _no_deletes())
        return load

    names = ["orgs", "courses", "classes", "users"]
    changes = ChangeSet({e: loader(e) for e in names})
    out = []
    for entity, loaded in changes.loaded():
        if entity == "classes":  # the next entity is read while this one is applied
            assert loading.wait(10)
        out.append((entity, loaded.upserts.column("sourced_id").to_pylist()))
        with lock:
            in_memory.remove(entity)
    assert out == [(e, [e]) for e in names]
    assert max(len(s) for s in seen) == 2  # this one and the next, never more


def test_a_change_set_that_cannot_be_read_fails_the_commit_and_leaves_the_store_as_it_was(store_url):
    store = GoldenStore(store_url)

    def unreadable() -> EntityChanges:
        raise OSError("upserts__classes.parquet: no such file")
    changes = ChangeSet({"users": EntityChanges(_users(["u1"]), _no_deletes()), "classes": unreadable})
    with pytest.raises(CommitFailedError, match="rolled back"):
        store.commit(changes, _info(None))
    assert store.count_records("lakeside", "2025-2026")["users"] == 0 and store.versions("lakeside") == []
