"""A delivery copies from the destination's last package the files whose inputs did not change, and the
package it writes is exactly the one a full build gives; a package that is no longer the one delivered,
or a duplicate decision since (tests/test_duplicate_review.py), means building everything."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import dagster as dg
import pytest

from passport_pipelines.config.loader import load_integration
from passport_pipelines.delivery.golden_frames import golden_frames
from passport_pipelines.delivery.oneroster_export import write_oneroster_zip
from passport_pipelines.delivery.previous_package import PreviousPackage, copy_member, package_comment
from passport_pipelines.delivery.privacy_shield import shield_absent, shield_frames
from passport_pipelines.delivery.targets import file_checksum
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


def test_a_previous_package_is_used_only_while_it_is_the_one_delivered(tmp_path):
    path = _package({"orgs.csv": b"o\n", "users.csv": b"u\n"}, tmp_path / "v1.zip",
                    package_comment({"orgs.csv": "a" * 64, "users.csv": "b" * 64}))
    rows = {"orgs.csv": 0, "users.csv": 0}
    previous = PreviousPackage.open(path, file_checksum(path), rows)
    assert previous is not None and previous.unchanged({"orgs.csv": "a" * 64, "users.csv": "c" * 64}) == {"orgs.csv"}
    assert PreviousPackage.open(path, "0" * 64, rows) is None  # changed since it was delivered
    assert PreviousPackage.open(tmp_path / "gone.zip", file_checksum(path), rows) is None
    plain = _package({"orgs.csv": b"o\n"}, tmp_path / "plain.zip")  # a package that names no fingerprints
    assert PreviousPackage.open(plain, file_checksum(plain), rows) is None


def _full_build(tmp_path: Path, store: GoldenStore) -> dict[str, bytes]:
    """The latest version's package for the default destination, built from nothing."""
    integration = load_integration(tmp_path / "integrations" / "lakeside.yaml")
    version = store.latest_version("lakeside", YEAR)
    dest = integration.csv_destinations[0]
    frames, _ = shield_frames(golden_frames(integration, version, store).frames, dest.shield)
    write_oneroster_zip(frames, tmp_path / "full.zip", dest.version, absent=shield_absent(dest.shield))
    return _contents(tmp_path / "full.zip")


def _copied(instance: dg.DagsterInstance) -> list[str]:
    """What the latest delivery copied from the last package, as the oneroster_exports asset shows it."""
    [record] = instance.fetch_materializations(dg.AssetKey("oneroster_exports"), limit=1).records
    [row] = record.asset_materialization.metadata["destinations"].value.records
    return [f for f in row.data["copied"].split(", ") if f]


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
        assert _copied(instance) == []
        assert _contents(Path(v3["path"])) == _full_build(tmp_path, store)
