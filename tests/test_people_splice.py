"""A users file is delivered as the last package's with the rows of the people who changed built again
(``delivery/csv_splice.py``, ``delivery/changed_people.py``), and is then exactly the file a full build
writes; where that cannot be told (an older release's file, extension columns, anything but people
changed), the users file is built whole."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import insert, select, update

from passport_pipelines.config.loader import load_integration
from passport_pipelines.delivery.changed_people import changed_people, changed_records
from passport_pipelines.delivery.csv_splice import KeyedLines, as_lines, body_bytes
from passport_pipelines.delivery.golden_frames import golden_frames
from passport_pipelines.delivery.oneroster_export import write_oneroster_zip
from passport_pipelines.delivery.privacy_shield import shield_absent, shield_frames
from passport_pipelines.model import entities
from passport_pipelines.store import schema
from passport_pipelines.store.duplicate_review import DuplicateReview
from passport_pipelines.store.golden_snapshots import content_columns
from passport_pipelines.store.golden_store import GoldenStore
from tests.conftest import write_integration
from tests.district_files import edit_rows, make_district, read_rows, write_rows
from tests.sync_harness import run_sync

YEAR = "2025-2026"


# --- lines of a CSV file, by id ----------------------------------------------------------------------------


def test_a_file_splits_into_lines_where_a_line_end_is_outside_quotes():
    data = b'sourcedId,name\na,"two\nlines"\nb,"said ""hi"", left"\nc,plain\n'
    lines = KeyedLines.parse(data, "sourcedId")
    assert lines.header == b"sourcedId,name\n"
    assert lines.ids.to_pylist() == ["a", "b", "c"]
    assert lines.lines.to_pylist() == [b'a,"two\nlines"\n', b'b,"said ""hi"", left"\n', b"c,plain\n"]
    assert body_bytes(lines.lines).to_pybytes() == data[len(lines.header):]


def test_replacing_lines_keeps_the_others_and_merges_in_id_order():
    lines = KeyedLines.parse(b"sourcedId,name\na,1\nc,3\ne,5\n", "sourcedId")
    out = lines.replaced(pa.array(["b", "c", "d", "e"]), as_lines(b"b,2\nd,4\n"), pa.array(["b", "d"]))
    # c and e replaced by nothing (no longer delivered), d by its new line; b is new, merged in its place.
    assert out.ids.to_pylist() == ["a", "b", "d"]
    assert b"".join(b.to_pybytes() for b in out.bodies(rows=2)) == b"a,1\nb,2\nd,4\n" and len(out) == 3


def test_replaced_lines_come_out_in_id_order_whatever_the_batches():
    # Batches of the last file's lines only, of new lines only, and of both, against a merge done by hand.
    old = {f"id{i:03}": f"id{i:03},old {i}\n".encode() for i in range(0, 60, 2)}
    lines = KeyedLines.parse(b"sourcedId,name\n" + b"".join(old.values()), "sourcedId")
    replaced = [f"id{i:03}" for i in (0, 10, 11, 12, 31, 40, 58, 59)]
    new = {i: f"{i},new\n".encode() for i in replaced if i not in ("id010", "id040")}  # two left out
    out = lines.replaced(pa.array(replaced), as_lines(b"".join(new.values())), pa.array(list(new)))
    expected = dict(sorted({**{i: v for i, v in old.items() if i not in replaced}, **new}.items()))
    for rows in (1, 3, 4, 7, 1000):
        assert [b.to_pybytes() for b in out.bodies(rows=rows)] != [] and \
            b"".join(b.to_pybytes() for b in out.bodies(rows=rows)) == b"".join(expected.values())
    assert out.ids.to_pylist() == list(expected) and len(out) == len(expected)


def test_replacing_lines_with_none_leaves_the_lines_of_those_ids_out():
    lines = KeyedLines.parse(b"sourcedId,name\na,1\nb,2\n", "sourcedId")
    out = lines.replaced(pa.array(["a"]), as_lines(b""), pa.array([], pa.string()))  # a person who left
    assert out.ids.to_pylist() == ["b"] and b"".join(b.to_pybytes() for b in out.bodies()) == b"b,2\n"


def test_replacing_lines_refuses_a_new_line_of_an_id_not_replaced():
    lines = KeyedLines.parse(b"sourcedId,name\na,1\nb,2\n", "sourcedId")
    with pytest.raises(ValueError, match="not among the ids replaced"):
        lines.replaced(pa.array(["a"]), as_lines(b"b,22\n"), pa.array(["b"]))


def test_a_file_not_written_in_id_order_is_not_taken_for_one():
    assert KeyedLines.parse(b"sourcedId,name\nb,1\na,2\n", "sourcedId") is None  # an older release's order
    assert KeyedLines.parse(b"sourcedId,name\na,1\na,2\n", "sourcedId") is None  # an id twice
    assert KeyedLines.parse(b"id,name\na,1\n", "sourcedId") is None  # no id column
    assert KeyedLines.parse(b"sourcedId,name\na,1\nb,2\n", "sourcedId").ids.to_pylist() == ["a", "b"]


# --- who changed --------------------------------------------------------------------------------------------


def _snapshot(folder: Path, users: list[dict], agents: list[dict]) -> Path:
    """A snapshot folder with the users' and agents' files: the given columns, the others blank, and each
    row's content hash as normalization gives it (a hash of its content)."""
    folder.mkdir(parents=True)
    for entity, rows in (("users", users), ("agents", agents)):
        content = entities.content_columns(entity)
        rows = [dict(r, content_hash=hashlib.md5(json.dumps([r.get(c) for c in content]).encode()).hexdigest())
                for r in rows]
        columns = ["source", "sourced_id", "golden_id", "deleted", *content_columns(entity)]
        bools = {"deleted", *entities.boolean_columns(entity)}
        pq.write_table(pa.table({c: pa.array([r.get(c, False if c == "deleted" else None) for r in rows],
                                             pa.bool_() if c in bools else pa.string()) for c in columns}),
                       folder / f"{entity}.parquet")
    return folder


def _user(sid: str, gid: str, **fields) -> dict:
    return {"source": "sis", "sourced_id": sid, "golden_id": gid, "given_name": sid.upper(), **fields}


def _agent(sid: str, user: str, agent: str, **fields) -> dict:
    return {"source": "sis", "sourced_id": sid, "golden_id": f"agt-{sid}", "user_sourced_id": user,
            "agent_sourced_id": agent, **fields}


def test_the_people_changed_are_those_of_every_record_that_changed_on_either_side(tmp_path):
    unchanged = [_user("u1", "g1"), _user("u2", "g2")]
    before = _snapshot(tmp_path / "before", [
        *unchanged,
        _user("renamed", "g3"),
        _user("moved", "g4"),  # a record that leaves person g4 for g5
        _user("gone", "g6"),
        _user("parent", "g7"), _user("child", "g8"),
        _user("father", "g9"), _user("kid", "g10"),
    ], [_agent("a1", "parent", "child"), _agent("a2", "kid", "father")])
    now = _snapshot(tmp_path / "now", [
        *unchanged,
        _user("renamed", "g3", given_name="Other"),
        _user("moved", "g5"),
        _user("gone", "g6", deleted=True),
        _user("new", "g11"),
        _user("parent", "g7"), _user("child", "g8", family_name="Changed"),
        _user("father", "g9"), _user("kid", "g10"),
    ], [_agent("a1", "parent", "child"), _agent("a2", "kid", "father", relationship="guardian")])
    con = duckdb.connect()
    con.register("keys", pa.table({"source": ["sis"] * 10,
                                   "sourced_id": ["u1", "u2", "renamed", "moved", "new", "parent", "child",
                                                  "father", "kid", "other"],
                                   "golden_id": ["g1", "g2", "g3", "g5", "g11", "g7", "g8", "g9", "g10", "g12"]}))
    people = changed_people(con, changed_records(now, before), now, "keys").to_pylist()
    # g3 renamed, g4 and g5 both sides of the move, g6 deleted, g11 added, g8 changed and g7 the person whose
    # agent it is, g10 the user of an agent record that changed; g1, g2, g9 (the agent side) untouched.
    assert people == sorted(["g3", "g4", "g5", "g6", "g11", "g8", "g7", "g10"])
    assert changed_people(con, changed_records(now, now), now, "keys").to_pylist() == []


# --- lineage ------------------------------------------------------------------------------------------------


def test_the_lineage_of_the_people_built_again_replaces_theirs_only(store_url):
    store = GoldenStore(store_url)
    first, second = (_version(store, number) for number in (1, 2))
    review = DuplicateReview(store)
    review.replace_lineage("lakeside", YEAR, first,
                           pa.table({"golden_id": ["g1", "g2"], "lineage": ['{"a":1}', '{"b":2}']}))
    review.splice_lineage("lakeside", YEAR, second, pa.array(["g2", "g3"]),
                          pa.table({"golden_id": ["g3"], "lineage": ['{"c":3}']}))
    with store.engine.connect() as conn:
        rows = conn.execute(select(schema.golden_lineage.c.golden_id, schema.golden_lineage.c.version_id,
                                   schema.golden_lineage.c.lineage).order_by("golden_id")).fetchall()
    assert [tuple(r) for r in rows] == [("g1", second, '{"a":1}'), ("g3", second, '{"c":3}')]


def _version(store: GoldenStore, number: int) -> int:
    """A committed version row of the partition (what the lineage of a delivery points at)."""
    with store.engine.begin() as conn:
        return conn.execute(insert(schema.versions).values(
            district="lakeside", school_year=YEAR, number=number, status="successfully in production", mode="full",
            committed_by="test", started_at=datetime.now(timezone.utc), committed_at=datetime.now(timezone.utc),
            changes={}, filtered={}, sources={})).inserted_primary_key[0]


# --- through a sync -------------------------------------------------------------------------------------------


def _spliced(instance: dg.DagsterInstance) -> tuple[list[str], list[str]]:
    """(copied, spliced) files of the latest delivery, as the oneroster_exports asset shows them."""
    [record] = instance.fetch_materializations(dg.AssetKey("oneroster_exports"), limit=1).records
    [row] = record.asset_materialization.metadata["destinations"].value.records
    return tuple([f for f in row.data[c].split(", ") if f] for c in ("copied", "spliced"))


def _full_build(tmp_path: Path, store: GoldenStore) -> dict[str, bytes]:
    integration = load_integration(tmp_path / "integrations" / "lakeside.yaml")
    dest = integration.csv_destinations[0]
    frames, _ = shield_frames(golden_frames(integration, store.latest_version("lakeside", YEAR), store).frames,
                              dest.shield)
    write_oneroster_zip(frames, tmp_path / "full.zip", dest.version, absent=shield_absent(dest.shield))
    return _contents(tmp_path / "full.zip")


def _reorder_users(path: Path, store: GoldenStore, delivery_id: int) -> None:
    """The package at ``path`` with its users' rows in reverse order, its zip comment kept, and on record as
    the file delivered (its checksum)."""
    members = _contents(path)
    header, *rows = members["users.csv"].splitlines(keepends=True)
    members["users.csv"] = header + b"".join(reversed(rows))
    with zipfile.ZipFile(path) as zf:
        comment = zf.comment
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.comment = comment
        for name, data in members.items():
            zf.writestr(name, data)
    with store.engine.begin() as conn:
        conn.execute(update(schema.deliveries).where(schema.deliveries.c.id == delivery_id)
                     .values(checksum=hashlib.sha256(path.read_bytes()).hexdigest()))


def _contents(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


@pytest.mark.slow
def test_a_sync_that_added_changed_and_deleted_people_splices_their_rows_into_the_users_file(
        tmp_path, passport_home, monkeypatch):
    monkeypatch.setenv("PASSPORT_DATABASE_URL", f"sqlite:///{passport_home / 'passport.db'}")
    drop = make_district(tmp_path / "drop", students=40)
    write_integration(tmp_path / "integrations", "lakeside", [
        {"name": "sis", "type": "csv", "path": str(drop), "schema": "oneroster-1.1"}])
    store = GoldenStore(f"sqlite:///{passport_home / 'passport.db'}")
    header, users = read_rows(drop / "users.csv")
    students = [u for u in users if u["role"] == "student" and u["agentSourcedIds"]]
    renamed, deleted, sibling = students[0], students[1], students[2]
    with dg.instance_for_test() as instance:
        assert run_sync(instance, "lakeside")["status"] == "successfully in production"

        # A student renamed, one gone (with their enrollments, and from their parents' agents), a sibling
        # added: a new user whose agents' records did not change.
        gone = deleted["sourcedId"]
        added = dict(sibling, sourcedId="new-student", username="new.student", givenName="Newly", identifier="N0001")

        def edited(rows: list[dict]) -> list[dict]:
            out = []
            for r in rows:
                agents = ",".join(a for a in r["agentSourcedIds"].split(",") if a and a != gone)
                if r["sourcedId"] != gone:
                    out.append(dict(r, agentSourcedIds=agents,
                                    givenName="Renamed" if r["sourcedId"] == renamed["sourcedId"] else r["givenName"]))
            return [*out, added]
        edit_rows(drop / "users.csv", edited)
        edit_rows(drop / "enrollments.csv", lambda rows: [r for r in rows if r["userSourcedId"] != gone])
        if (drop / "demographics.csv").exists():
            edit_rows(drop / "demographics.csv", lambda rows: [r for r in rows if r["sourcedId"] != gone])
        second = run_sync(instance, "lakeside")
        assert second["status"] == "successfully in production", second["errors"]
        copied, spliced = _spliced(instance)
        assert spliced == ["users.csv"] and "users.csv" not in copied
        [delivery] = store.deliveries(store.latest_version("lakeside", YEAR).id)
        delivered = _contents(Path(delivery["path"]))
        assert delivered == _full_build(tmp_path, store)
        assert b"Renamed" in delivered["users.csv"] and b"Newly" in delivered["users.csv"]
        assert delivery["rows"]["users.csv"] == delivered["users.csv"].count(b"\n") - 1 == len(users)

        # The last users file in another order than its ids' (as an older release wrote it): it is found out
        # only once read, after the changed people's rows were built, and the file is then built whole.
        _reorder_users(Path(delivery["path"]), store, delivery["id"])
        edit_rows(drop / "users.csv", lambda rows: [dict(r, givenName="Again") if r["sourcedId"] == renamed["sourcedId"]
                                                    else r for r in rows])
        older = run_sync(instance, "lakeside")
        assert older["status"] == "successfully in production", older["errors"]
        copied, spliced = _spliced(instance)
        assert spliced == [] and "orgs.csv" in copied  # the package was trusted; its users file was not ours
        [delivery] = store.deliveries(store.latest_version("lakeside", YEAR).id)
        delivered = _contents(Path(delivery["path"]))
        assert b"Again" in delivered["users.csv"] and delivered == _full_build(tmp_path, store)

        # A changed person with an extension field: the last file has no column for it, so it is built whole.
        header, rows = read_rows(drop / "users.csv")
        write_rows(drop / "users.csv", [*header, "metadata.house"],
                   [dict(r, **{"metadata.house": "Blue" if r["sourcedId"] == renamed["sourcedId"] else ""})
                    for r in rows])
        third = run_sync(instance, "lakeside")
        assert third["status"] == "successfully in production", third["errors"]
        assert _spliced(instance)[1] == []
        [delivery] = store.deliveries(store.latest_version("lakeside", YEAR).id)
        delivered = _contents(Path(delivery["path"]))
        assert delivered["users.csv"].startswith(b"sourcedId,") and b"metadata.house" in delivered["users.csv"]
        assert delivered == _full_build(tmp_path, store)

        # The last file has a metadata column: rows without it cannot be spliced in, so it is built whole.
        edit_rows(drop / "users.csv", lambda rows: [dict(r, givenName="Later") if r["sourcedId"] == sibling["sourcedId"]
                                                    else r for r in rows])
        fourth = run_sync(instance, "lakeside")
        assert fourth["status"] == "successfully in production", fourth["errors"]
        assert _spliced(instance)[1] == []
        [delivery] = store.deliveries(store.latest_version("lakeside", YEAR).id)
        assert _contents(Path(delivery["path"])) == _full_build(tmp_path, store)
