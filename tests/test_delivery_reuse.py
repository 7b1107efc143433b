"""A delivery copies from the destination's last package the files whose inputs did not change, and the
package it writes is exactly the one a full build gives; a package that is no longer the one delivered,
or a duplicate decision since (tests/test_duplicate_review.py), means building everything."""

from __future__ import annotations

import json
import zipfile
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa
import pytest

from passport_pipelines.config.destinations import OneRosterCsvDestination, PrivacyShield
from passport_pipelines.config.loader import load_integration
from passport_pipelines.delivery.frame_fingerprints import file_fingerprints, frame_fingerprints, table_digest
from passport_pipelines.delivery.golden_frames import golden_frames
from passport_pipelines.delivery.oneroster_export import write_oneroster_zip
from passport_pipelines.delivery.previous_package import PreviousPackage, copy_member, package_comment, read_member
from passport_pipelines.delivery.privacy_shield import shield_absent, shield_frames
from passport_pipelines.delivery.targets import file_checksum
from passport_pipelines.model import entities
from passport_pipelines.reconciliation.review_effects import ReviewEffects
from passport_pipelines.store.golden_store import GoldenStore
from tests.conformance.exports import assert_conforms
from tests.conftest import write_integration
from tests.district_files import edit_rows, make_district, read_rows
from tests.sync_harness import run_sync

YEAR = "2025-2026"


def _package(files: dict[str, bytes], path: Path, comment: bytes = b"") -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.comment = comment
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def test_a_member_is_copied_as_it_is_and_reads_back_the_same(tmp_path):
    users = "".join(f"u{i},Name{i}\n" for i in range(20_000)).encode()
    source = _package({"orgs.csv": b"sourcedId\no1\n", "users.csv": users}, tmp_path / "v1.zip")
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(tmp_path / "v2.zip", "w") as new:
        new.writestr("manifest.csv", b"propertyName,value\n")
        copy_member(old, new, "users.csv")
        new.writestr("orgs.csv", b"sourcedId\no2\n")
    with zipfile.ZipFile(tmp_path / "v2.zip") as z, zipfile.ZipFile(source) as old:
        assert z.testzip() is None
        assert z.namelist() == ["manifest.csv", "users.csv", "orgs.csv"]
        assert z.read("users.csv") == users and z.read("orgs.csv") == b"sourcedId\no2\n"
        copied, original = z.getinfo("users.csv"), old.getinfo("users.csv")
        assert (copied.CRC, copied.compress_size) == (original.CRC, original.compress_size)


def test_a_member_is_read_back_as_zipfile_reads_it_and_a_damaged_one_is_refused(tmp_path):
    users = "".join(f"u{i},Name{i}\n" for i in range(20_000)).encode()
    path = _package({"orgs.csv": b"sourcedId\no1\n", "users.csv": users}, tmp_path / "v1.zip")
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("stored.csv", b"kept as it is\n")
    assert read_member(path, "users.csv") == users and read_member(path, "stored.csv") == b"kept as it is\n"
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("users.csv")
        at = info.header_offset + zipfile.sizeFileHeader + len(info.filename.encode()) + len(info.extra)
    damaged = bytearray(path.read_bytes())
    damaged[at + info.compress_size // 2] ^= 0xFF  # one byte of the deflated data flipped
    path.write_bytes(bytes(damaged))
    with pytest.raises(zipfile.BadZipFile, match="users.csv"):
        read_member(path, "users.csv")


def test_a_previous_package_is_used_only_while_it_is_the_one_delivered(tmp_path):
    path = _package({"orgs.csv": b"o\n", "users.csv": b"u\n"}, tmp_path / "v1.zip",
                    package_comment({"orgs.csv": "a" * 64, "users.csv": "b" * 64}))
    rows = {"orgs.csv": 0, "users.csv": 0}
    previous = PreviousPackage.open(path, file_checksum(path), rows, 1)
    assert previous is not None and previous.unchanged({"orgs.csv": "a" * 64, "users.csv": "c" * 64}) == {"orgs.csv"}
    assert PreviousPackage.open(path, "0" * 64, rows, 1) is None  # changed since it was delivered
    assert PreviousPackage.open(tmp_path / "gone.zip", file_checksum(path), rows, 1) is None
    plain = _package({"orgs.csv": b"o\n"}, tmp_path / "plain.zip")  # a package that names no fingerprints
    assert PreviousPackage.open(plain, file_checksum(plain), rows, 1) is None


def _full_build(tmp_path: Path, store: GoldenStore) -> dict[str, bytes]:
    """The latest version's package for the default destination, built from nothing."""
    integration = load_integration(tmp_path / "integrations" / "lakeside.yaml")
    version = store.latest_version("lakeside", YEAR)
    dest = integration.csv_destinations[0]
    frames, _ = shield_frames(golden_frames(integration, version, store).frames, dest.shield)
    write_oneroster_zip(frames, tmp_path / "full.zip", dest.version, absent=shield_absent(dest.shield))
    return _contents(tmp_path / "full.zip")


def _copied(instance: dg.DagsterInstance, column: str = "copied") -> list[str]:
    """What the latest delivery copied from the last package, as the oneroster_exports asset shows it."""
    [record] = instance.fetch_materializations(dg.AssetKey("oneroster_exports"), limit=1).records
    [row] = record.asset_materialization.metadata["destinations"].value.records
    return [f for f in row.data[column].split(", ") if f]


def _spliced(instance: dg.DagsterInstance) -> list[str]:
    """The files the latest delivery wrote as the last package's with the changed people's rows rebuilt."""
    return _copied(instance, "spliced")


def _contents(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


@pytest.mark.slow
def test_a_sync_that_changed_users_only_rebuilds_the_users_file(tmp_path, passport_home, store_url):
    drop = make_district(tmp_path / "drop", students=40)
    write_integration(tmp_path / "integrations", "lakeside", [
        {"name": "sis", "type": "csv", "path": str(drop), "schema": "oneroster-1.1"}])
    store = GoldenStore(store_url)
    _, users = read_rows(drop / "users.csv")
    student = next(u["sourcedId"] for u in users if u["role"] == "student")
    with dg.instance_for_test() as instance:
        first = run_sync(instance, "lakeside")
        assert first["status"] == "successfully in production", first["errors"]
        [v1] = store.deliveries(store.latest_version("lakeside", YEAR).id)
        assert _copied(instance) == []  # nothing to copy from: a first delivery
        with zipfile.ZipFile(v1["path"]) as z:
            named = json.loads(z.comment)["passport_files"]
        assert set(named) == set(v1["rows"]) and "manifest.csv" not in named

        edit_rows(drop / "users.csv", lambda rows: [dict(r, givenName="Renamed") if r["sourcedId"] == student
                                                    else r for r in rows])
        second = run_sync(instance, "lakeside")
        assert second["status"] == "successfully in production", second["errors"]
        [v2] = store.deliveries(store.latest_version("lakeside", YEAR).id)
        assert _copied(instance) == sorted(set(v2["rows"]) - {"users.csv"})
        assert _spliced(instance) == ["users.csv"]  # the renamed student's row built again, the others kept
        assert v2["rows"] == v1["rows"]
        delivered = _contents(Path(v2["path"]))
        assert delivered == _full_build(tmp_path, store)
        assert b"Renamed" in delivered["users.csv"]
        assert_conforms(Path(v2["path"]), "1.1")

        # The last package altered after its delivery: it is not trusted, and everything is built.
        Path(v2["path"]).write_bytes(Path(v2["path"]).read_bytes() + b"\0")
        edit_rows(drop / "users.csv", lambda rows: [dict(r, givenName="Again") if r["sourcedId"] == student
                                                    else r for r in rows])
        third = run_sync(instance, "lakeside")
        [v3] = store.deliveries(store.latest_version("lakeside", YEAR).id)
        assert third["status"] == "successfully in production", third["errors"]
        assert _copied(instance) == [] and _spliced(instance) == []
        assert _contents(Path(v3["path"])) == _full_build(tmp_path, store)


def _keys(*ids: str) -> pa.Table:
    return pa.table({"source": ["sis"] * len(ids), "sourced_id": list(ids), "golden_id": [f"g-{i}" for i in ids]})


def _fingerprint_inputs(tmp_path: Path) -> dict:
    """A snapshot folder with a file per entity, the keys and decisions a delivery reads, an integration."""
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    for entity in entities.ENTITIES:
        (snapshot / f"{entity}.parquet").write_bytes(entity.encode())
    path = write_integration(tmp_path, "lakeside", [{"name": "sis", "type": "csv", "path": str(tmp_path)}])
    return {"integration": load_integration(path), "snapshot": snapshot,
            "current_keys": {"users": _keys("u1", "u2")},
            "referenced_keys": {"users": _keys("u1", "u2"), "orgs": _keys("o1"), "classes": _keys("c1")},
            "effects": ReviewEffects(ignored={}, takes={}), "decided_at": None}


def _fingerprints(inputs: dict) -> dict[str, str]:
    con = duckdb.connect()
    try:
        return frame_fingerprints(con, **inputs)
    finally:
        con.close()


def _changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {e for e in before if before[e] != after[e]}


def test_a_frame_fingerprint_follows_exactly_the_inputs_of_its_frame(tmp_path):
    inputs = _fingerprint_inputs(tmp_path)
    before = _fingerprints(inputs)
    assert set(before) == set(entities.ENTITIES) and _fingerprints(inputs) == before
    # The same rows in another order: the same frames.
    assert _fingerprints({**inputs, "current_keys": {"users": _keys("u2", "u1")}}) == before

    # A user's golden id changes (a person merged): users, and every frame pointing at users.
    moved = _keys("u1", "u2").set_column(2, "golden_id", pa.array(["g-u1", "g-u1"]))
    changed = _changed(before, _fingerprints({**inputs, "current_keys": {"users": moved},
                                              "referenced_keys": {**inputs["referenced_keys"], "users": moved}}))
    pointing = {e for e, refs in entities.REFERENCES.items() if any(r.entity == "users" for r in refs)}
    assert changed == {"users"} | pointing and "enrollments" in changed and "orgs" not in changed

    # A commit that changed orgs only: a new snapshot file for orgs, the others hard links of the old ones.
    (inputs["snapshot"] / "orgs.parquet").unlink()
    (inputs["snapshot"] / "orgs.parquet").write_bytes(b"orgs, changed")
    after = _fingerprints(inputs)
    assert _changed(before, after) == {"orgs"}

    # A field a reviewer took for a golden user: users only. Any decision since: everything.
    takes = pa.table({"golden_id": ["g-u1"], "field": ["given_name"], "value": ["Ada"], "record": ["sis:u2"]})
    assert _changed(after, _fingerprints({**inputs, "effects": ReviewEffects({}, {"users": takes})})) == {"users"}
    assert _changed(after, _fingerprints({**inputs, "decided_at": datetime(2026, 1, 5)})) == set(after)
    # Master fields decide which record gives a merged user's values: every frame.
    assert _changed(after, _fingerprints({**inputs, "integration": inputs["integration"].model_copy(
        update={"master_fields": {"users": {"given_name": ["sis"]}}})})) == set(after)
    # No snapshot: nothing can be fingerprinted, and everything is built.
    assert _fingerprints({**inputs, "snapshot": None}) == {}


def test_a_table_digest_is_the_same_in_any_order_and_counts_repeated_rows():
    con = duckdb.connect()
    try:
        assert table_digest(con, _keys("u1", "u2")) == table_digest(con, _keys("u2", "u1"))
        assert table_digest(con, _keys("u1", "u1")) != table_digest(con, _keys("u2", "u2"))
        assert table_digest(con, None) == table_digest(con, _keys()) == "-"
    finally:
        con.close()


def test_a_file_fingerprint_follows_its_frames_shield_and_version():
    frames = {e: f"fp-{e}" for e in entities.ENTITIES}
    files = {"users.csv": ("users", "agents"), "orgs.csv": ("orgs",)}
    plain = OneRosterCsvDestination(name="lms", type="oneroster-1.1-csv")
    base = file_fingerprints(frames, plain, files)
    assert set(base) == set(files)
    assert _changed(base, file_fingerprints({**frames, "agents": "other"}, plain, files)) == {"users.csv"}
    twelve = OneRosterCsvDestination(name="lms", type="oneroster-1.2-csv")
    assert _changed(base, file_fingerprints(frames, twelve, files)) == set(files)
    masked = plain.model_copy(update={"shield": PrivacyShield(attributes={"users": ["given_name"]})})
    assert _changed(base, file_fingerprints(frames, masked, files)) == set(files)
    # Kept by school: every file reads every frame.
    schools = plain.model_copy(update={"shield": PrivacyShield(schools=["s1"])})
    by_school = file_fingerprints(frames, schools, files)
    assert _changed(by_school, file_fingerprints({**frames, "classes": "other"}, schools, files)) == set(files)
    # A frame without a fingerprint: its files are built.
    assert set(file_fingerprints({e: f for e, f in frames.items() if e != "agents"}, plain, files)) == {"orgs.csv"}
