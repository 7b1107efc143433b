"""Integration rules through the Dagster job: two sources of one district each with its own rules,
side by side; rule counts in the run's metadata; the data-requirements check; custom attributes
delivered as metadata.* columns."""

from __future__ import annotations

import csv
import io
import zipfile

import dagster as dg
import pytest

from passport_pipelines.store.golden_store import GoldenStore
from tests.conftest import write_integration
from tests.district_files import edit_rows, make_district, read_rows, write_rows
from tests.sync_harness import run_sync

pytestmark = pytest.mark.slow


def test_two_sources_with_their_own_rules(tmp_path, passport_home, store_url):
    sis = make_district(tmp_path / "sis", students=30, seed=3)
    extra = make_district(tmp_path / "extra", students=20, seed=9)
    header, rows = read_rows(sis / "users.csv")
    for i, r in enumerate(rows):
        r["metadata.bus"] = f"R{i % 3}" if r["role"] == "student" else ""
    write_rows(sis / "users.csv", header + ["metadata.bus"], rows)
    edit_rows(extra / "users.csv", lambda rs: [{**r, "email": "" if r["role"] == "student" and i % 4 == 0
                                                else r["email"]} for i, r in enumerate(rs)])
    write_integration(tmp_path / "integrations", "lakeside", [
        {"name": "sis", "type": "csv", "path": str(sis),
         "attributes": {"users": {"bus_route": "metadata.bus"}},
         "filters": {"student": [{"template": "grade_range", "from": "KG", "to": "08"}]}},
        {"name": "extra", "type": "csv", "path": str(extra), "sis_id_prefix": "x-",
         "requirements": {"student": {"email": "report_if_missing"}}},
    ])
    with dg.instance_for_test() as instance:
        summary = run_sync(instance, "lakeside")
        assert summary["status"] == "successfully in production", summary["errors"]
        event = instance.get_latest_materialization_event(dg.AssetKey("normalized_rosters"))
        meta = event.asset_materialization.metadata
        assert meta["rows_filtered_by_rule"].value["sis: student: grade_range"] > 0
        check = summary["checks"]["data_requirements"]
        assert check["passed"] is False  # a warning: the sync went on
        rows_ = check["metadata"]["requirements"]
        assert rows_[0]["source"] == "extra" and rows_[0]["missing"] > 0
        # Sample ids as the SIS knows them (before the prefix), so they can be looked up there.
        assert all(i.startswith("stu-") for i in rows_[0]["sample_ids"].split(", "))

    store = GoldenStore(store_url)
    try:
        users = store.current_records("lakeside", "2025-2026", "users").to_pylist()
    finally:
        store.dispose()
    by_source = {s: [u for u in users if u["source"] == s] for s in ("sis", "extra")}
    assert all(u["sourced_id"].startswith("x-") for u in by_source["extra"])
    assert not any(u["sourced_id"].startswith("x-") for u in by_source["sis"])
    grades_ok = {"KG", "01", "02", "03", "04", "05", "06", "07", "08"}
    assert all(set(u["grades"].split(",")) & grades_ok for u in by_source["sis"] if u["role"] == "student")
    assert any(u["role"] == "student" and not set(u["grades"].split(",")) & grades_ok for u in by_source["extra"])

    with zipfile.ZipFile(summary["deliveries"][0]) as z:
        delivered = list(csv.DictReader(io.TextIOWrapper(z.open("users.csv"), encoding="utf-8")))
    assert "metadata.bus_route" in delivered[0]
    assert {r["metadata.bus_route"] for r in delivered} >= {"R0", "R1", "R2"}


def test_a_generated_username_stays_with_its_person_across_syncs(tmp_path, passport_home, store_url):
    drop = make_district(tmp_path / "sis", students=12, seed=4)
    header, rows = read_rows(drop / "users.csv")
    students = [r for r in rows if r["role"] == "student"]
    first, later = students[0], students[5]  # first sorts before later
    for r in (first, later):
        r["givenName"], r["familyName"] = "Zoë", "D'Angelo"
    newcomer = dict(first)
    write_rows(drop / "users.csv", header, [r for r in rows if r is not first])  # the first is not enrolled yet
    write_integration(tmp_path / "integrations", "lakeside", [
        {"name": "sis", "type": "csv", "path": str(drop), "sis_id_prefix": "s-",
         "transforms": {"users": [{"field": "username", "template": "{given_name}.{family_name}", "ascii": True,
                                   "unique": True}]}}])

    def usernames() -> dict[str, str]:
        store = GoldenStore(store_url)
        try:
            return {u["sourced_id"]: u["username"] for u in store.current_records("lakeside", "2025-2026", "users")
                    .to_pylist()}
        finally:
            store.dispose()

    with dg.instance_for_test() as instance:
        assert run_sync(instance, "lakeside")["version"] == 1
        assert usernames()["s-" + later["sourcedId"]] == "zoe.dangelo"
        write_rows(drop / "users.csv", header, rows[:rows.index(first)] + [newcomer] + rows[rows.index(first) + 1:])
        second = run_sync(instance, "lakeside")
        assert second["version"] == 2, second["errors"]
    names = usernames()
    # The person who had the name keeps it; the newcomer, though first by id, gets the suffix.
    assert names["s-" + later["sourcedId"]] == "zoe.dangelo"
    assert names["s-" + first["sourcedId"]] == "zoe.dangelo2"
