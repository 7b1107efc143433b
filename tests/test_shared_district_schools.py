"""One district school per district id, whatever the number of sources mapped to it: two sources whose
schools map to the district's deliver each school once, and every reference of either source (users'
orgs, courses' org, classes' school, enrollments' school) points at that one school."""

from __future__ import annotations

import csv
import io
import zipfile

import dagster as dg
import pytest
from sqlalchemy import select, update

from passport_pipelines.model.change_set import own_golden_id
from passport_pipelines.store import schema
from passport_pipelines.store.golden_store import GoldenStore
from tests.conftest import write_integration
from tests.district_files import edit_rows, make_district
from tests.sync_harness import run_sync

pytestmark = pytest.mark.slow

SCHOOLS = [{"id": "bayside", "name": "Bayside K-8", "identifier": "061234500001"},
           {"id": "truth-hs", "name": "Sojourner Truth High", "identifier": "061234500002"}]


def _delivered(zip_path: str, name: str) -> list[dict]:
    with zipfile.ZipFile(zip_path) as z:
        return list(csv.DictReader(io.TextIOWrapper(z.open(name), encoding="utf-8")))


def test_two_sources_mapped_to_one_district_school_deliver_it_once(tmp_path, passport_home, store_url):
    sis = make_district(tmp_path / "sis", students=20, seed=3)
    extra = make_district(tmp_path / "extra", students=12, seed=9)
    write_integration(tmp_path / "integrations", "lakeside", [
        {"name": "sis", "type": "csv", "path": str(sis), "schools": "auto"},
        {"name": "extra", "type": "csv", "path": str(extra), "sis_id_prefix": "x-",
         "schools": {"mode": "explicit", "map": {"sch-0001": "bayside", "sch-0002": "truth-hs"}}},
    ], schools=SCHOOLS)
    with dg.instance_for_test() as instance:
        summary = run_sync(instance, "lakeside")
        assert summary["status"] == "successfully in production", summary["errors"]
        # A second sync of the same data keeps it so (the golden ids on record are the shared ones).
        again = run_sync(instance, "lakeside")
        assert again["status"] == "successfully in production", again["errors"]
    export = summary["deliveries"][0]
    orgs = _delivered(export, "orgs.csv")
    schools = [o for o in orgs if o["type"] == "school"]
    assert sorted(o["name"] for o in schools) == ["Bayside K-8", "Sojourner Truth High"]
    school_ids = {o["sourcedId"] for o in schools}
    assert len(school_ids) == 2

    users = _delivered(export, "users.csv")
    assert len(users) > 32  # 20 + 12 students and their staff, none merged
    for u in users:
        assert u["orgSourcedIds"] and set(u["orgSourcedIds"].split(",")) <= school_ids | _non_school_ids(orgs), u
    courses = _delivered(export, "courses.csv")
    assert {c["orgSourcedId"] for c in courses} <= school_ids
    classes = _delivered(export, "classes.csv")
    assert {c["schoolSourcedId"] for c in classes} <= school_ids
    enrollments = _delivered(export, "enrollments.csv")
    assert {e["schoolSourcedId"] for e in enrollments} <= school_ids
    # People of both sources point at both schools: the two copies really are one.
    user_schools = {s for u in users for s in u["orgSourcedIds"].split(",")}
    assert user_schools & school_ids == school_ids


def _non_school_ids(orgs: list[dict]) -> set[str]:
    return {o["sourcedId"] for o in orgs if o["type"] != "school"}


def test_copies_of_a_school_on_record_under_their_own_golden_ids_become_one(tmp_path, passport_home, sqlite_store):
    """A district whose two sources' copies of a school were kept apart before (each source's own golden
    id): its next sync moves them to the first source's, which was delivered already."""
    sis = make_district(tmp_path / "sis", students=10, seed=3)
    extra = make_district(tmp_path / "extra", students=8, seed=9)
    write_integration(tmp_path / "integrations", "lakeside", [
        {"name": "sis", "type": "csv", "path": str(sis), "schools": "auto"},
        {"name": "extra", "type": "csv", "path": str(extra), "sis_id_prefix": "x-", "schools": "auto"},
    ], schools=SCHOOLS)
    with dg.instance_for_test() as instance:
        assert run_sync(instance, "lakeside")["status"] == "successfully in production"
        store = GoldenStore(sqlite_store)
        orgs = schema.golden_tables["orgs"]
        with store.engine.begin() as conn:  # as syncs before shared schools left them
            for row in conn.execute(select(orgs.c.source, orgs.c.sourced_id).where(orgs.c.type == "school")).all():
                conn.execute(update(orgs).where(orgs.c.source == row.source, orgs.c.sourced_id == row.sourced_id)
                             .values(golden_id=own_golden_id("lakeside", "orgs", row.source, row.sourced_id)))
        edit_rows(extra / "users.csv", lambda rs: [{**r, "givenName": "Changed"} if i == 0 else r
                                                   for i, r in enumerate(rs)])
        summary = run_sync(instance, "lakeside")
        assert summary["status"] == "successfully in production", summary["errors"]
    schools = [o for o in _delivered(summary["deliveries"][0], "orgs.csv") if o["type"] == "school"]
    assert sorted(o["sourcedId"] for o in schools) == sorted(own_golden_id("lakeside", "orgs", "sis", s["id"])
                                                             for s in SCHOOLS)
    users = _delivered(summary["deliveries"][0], "users.csv")
    assert {s for u in users for s in u["orgSourcedIds"].split(",")} >= {o["sourcedId"] for o in schools}
