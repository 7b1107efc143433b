"""Deliveries read the version's columnar snapshot instead of the store's SQL tables, and get exactly what
the store would have given them: after additions, updates, deletions and their cascades, after a
person's duplicate decision made outside any sync, and when a snapshot is missing or not this store's."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow.csv as pcsv
import pytest

from passport_pipelines.config.loader import load_integration
from passport_pipelines.delivery.golden_frames import golden_frames
from passport_pipelines.store.arrow_connection import ArrowConnection
from passport_pipelines.store.golden_snapshots import (
    SnapshotBuild,
    latest_snapshot,
    partition_dir,
    record_counts,
    snapshot_dir,
)
from passport_pipelines.store.golden_store import GoldenStore
from tests.conftest import write_integration
from tests.district_files import edit_rows, make_district, read_rows
from tests.sync_harness import run_sync

pytestmark = pytest.mark.slow
YEAR = "2025-2026"


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns)).reset_index(drop=True) if len(frame) else frame.reset_index(drop=True)


def _same_as_the_store(tmp_path: Path, store: GoldenStore) -> dict[str, pd.DataFrame]:
    """The frames a delivery builds from the snapshot, checked against those it builds from the store."""
    version = store.latest_version("lakeside", YEAR)
    integration = load_integration(tmp_path / "integrations" / "lakeside.yaml")
    folder = latest_snapshot(store, "lakeside", YEAR)
    assert folder is not None and folder == snapshot_dir(version)
    from_snapshot = golden_frames(integration, version, store).frames
    aside = tmp_path / "aside"
    shutil.move(folder, aside)
    try:
        assert latest_snapshot(store, "lakeside", YEAR) is None
        from_store = golden_frames(integration, version, store).frames
    finally:
        shutil.move(aside, folder)
    assert set(from_snapshot) == set(from_store)
    assert record_counts(store, "lakeside", YEAR) == store.count_records("lakeside", YEAR)
    for entity, frame in from_store.items():
        pd.testing.assert_frame_equal(_sorted(from_snapshot[entity]), _sorted(frame), obj=entity)
    return from_snapshot


def test_a_delivery_from_the_snapshot_is_what_the_store_holds(tmp_path, passport_home, store_url):
    drop = make_district(tmp_path / "drop", students=40)
    write_integration(tmp_path / "integrations", "lakeside", [
        {"name": "sis", "type": "csv", "path": str(drop), "schema": "oneroster-1.1"}])
    store = GoldenStore(store_url)
    _, users = read_rows(drop / "users.csv")
    students = [u["sourcedId"] for u in users if u["role"] == "student"]
    with dg.instance_for_test() as instance:
        first = run_sync(instance, "lakeside")
        assert first["status"] == "successfully in production", first["errors"]
        v1 = store.latest_version("lakeside", YEAR)
        frames = _same_as_the_store(tmp_path, store)
        assert len(frames["users"]) == len(users)

        # A renamed student, a student gone (with their enrollments, by cascade): only what changed is rewritten.
        edit_rows(drop / "users.csv", lambda rows: [dict(r, givenName="Renamed") if r["sourcedId"] == students[0]
                                                    else r for r in rows if r["sourcedId"] != students[1]])
        second = run_sync(instance, "lakeside")
        assert second["status"] == "successfully in production", second["errors"]
        assert second["changes"]["enrollments"]["deleted"] > 0
        frames = _same_as_the_store(tmp_path, store)
        assert len(frames["users"]) == len(users) - 1
        assert (frames["users"]["given_name"] == "Renamed").sum() == 1
        v2 = store.latest_version("lakeside", YEAR)
        one, two = snapshot_dir(v1), snapshot_dir(v2)
        assert os.stat(two / "orgs.parquet").st_ino == os.stat(one / "orgs.parquet").st_ino  # unchanged: linked
        assert os.stat(two / "users.parquet").st_ino != os.stat(one / "users.parquet").st_ino

        # What a person's decision writes, between syncs: one student merged into another, one deleted.
        with ArrowConnection(store_url) as ac, ac.transaction():
            golden = store.current_keys("lakeside", YEAR, "users").to_pylist()
            by_id = {k["sourced_id"]: k["golden_id"] for k in golden}
            ac.execute(f"UPDATE golden_users SET golden_id = {ac.ph(1)} WHERE sourced_id = {ac.ph(2)}",
                       [by_id[students[2]], students[3]])
            ac.execute(f"UPDATE golden_users SET deleted_version = {ac.ph(1)} WHERE sourced_id = {ac.ph(2)}",
                       [v2.id, students[4]])
        frames = _same_as_the_store(tmp_path, store)
        assert len(frames["users"]) == len(users) - 3

        # A snapshot missing (a sync killed after its commit): the next commit builds one from the store.
        shutil.rmtree(two)
        edit_rows(drop / "users.csv", lambda rows: [dict(r, familyName="Again") if r["sourcedId"] == students[5]
                                                    else r for r in rows])
        third = run_sync(instance, "lakeside")
        assert third["status"] == "successfully in production", third["errors"]
        assert snapshot_dir(store.latest_version("lakeside", YEAR)).is_dir()
        _same_as_the_store(tmp_path, store)
    # Each commit keeps its own snapshot and the one before (a reader may still be on it), nothing half-built.
    assert sorted(p.name for p in partition_dir("lakeside", YEAR).iterdir()) == sorted(
        p.name for p in (snapshot_dir(v) for v in store.versions("lakeside", YEAR)[-2:]) if p.is_dir())
    store.dispose()


def _synced_district(tmp_path: Path, store_url: str) -> tuple[Path, GoldenStore]:
    """A small district synced once: its drop folder and the store it was committed to."""
    drop = make_district(tmp_path / "drop", students=10)
    write_integration(tmp_path / "integrations", "lakeside", [
        {"name": "sis", "type": "csv", "path": str(drop), "schema": "oneroster-1.1"}])
    store = GoldenStore(store_url)
    with dg.instance_for_test() as instance:
        assert run_sync(instance, "lakeside")["status"] == "successfully in production"
    return drop, store


def test_a_commit_that_fails_leaves_no_snapshot(tmp_path, passport_home, store_url):
    drop, store = _synced_district(tmp_path, store_url)
    before = sorted(partition_dir("lakeside", YEAR).iterdir())
    build = SnapshotBuild(store, "lakeside", YEAR, store.latest_version("lakeside", YEAR).id, {}, {})
    build.discard()  # what commit_sync does when the store's commit raises
    assert sorted(partition_dir("lakeside", YEAR).iterdir()) == before
    store.dispose()


def test_a_snapshot_of_another_store_is_never_read(tmp_path, passport_home, store_url):
    drop, store = _synced_district(tmp_path, store_url)
    version = store.latest_version("lakeside", YEAR)
    folder = snapshot_dir(version)
    # Same district, year and version id, committed by another run (another store under this home).
    folder.rename(folder.with_name(f"v{version.id}-another-run"))
    assert latest_snapshot(store, "lakeside", YEAR) is None
    integration = load_integration(tmp_path / "integrations" / "lakeside.yaml")
    frames = golden_frames(integration, version, store).frames  # read from the store
    assert len(frames["users"]) == pcsv.read_csv(drop / "users.csv").num_rows
    store.dispose()
