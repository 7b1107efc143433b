"""A change of a source's identity settings (sis_id_prefix, schools mapping, name) is found at the next
sync, held with a reason naming the setting, and its approval re-keys the source's records in one version:
old keys deleted, new keys added under the golden ids they had (what is delivered keeps its ids, each
record once), duplicate merges and decisions carried over; an incremental source's records it does not
resend are carried too."""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from collections import Counter

import dagster as dg
import pytest

from passport_pipelines.store.duplicate_review import DuplicateReview
from passport_pipelines.store.golden_store import GoldenStore
from tests.conftest import write_integration
from tests.district_files import edit_rows, make_district, read_rows, write_manifest
from tests.sync_harness import approve_held, run_sync

pytestmark = pytest.mark.slow

YEAR = "2025-2026"
ENTITIES = ("orgs", "courses", "classes", "users", "enrollments", "demographics")
FILES = {"orgs": "orgs.csv", "courses": "courses.csv", "classes": "classes.csv", "users": "users.csv",
         "enrollments": "enrollments.csv", "demographics": "demographics.csv"}
SCHOOLS = [{"id": "bayside", "name": "Bayside K-8", "identifier": "061234500001"},
           {"id": "truth-hs", "name": "Sojourner Truth High", "identifier": "061234500002"}]


def _export(summary: dict) -> dict[str, list[dict]]:
    with zipfile.ZipFile(summary["deliveries"][0]) as z:
        return {e: list(csv.DictReader(io.TextIOWrapper(z.open(f), encoding="utf-8"))) for e, f in FILES.items()}


def _ids(export: dict, entity: str) -> list[str]:
    return [r["sourcedId"] for r in export[entity]]


def _records(store_url: str, entity: str, source: str) -> list[dict]:
    store = GoldenStore(store_url)
    try:
        return store.current_records("lakeside", YEAR, entity, ["source", "sourced_id", "golden_id"],
                                     source=source).to_pylist()
    finally:
        store.dispose()


def _rename(path, old: str, new: str) -> None:
    edit_rows(path, lambda rs: [{**r, "givenName": new} if r["givenName"] == old else r for r in rs])


def test_an_incremental_source_given_an_id_prefix_is_held_then_re_keyed_in_one_version(
        tmp_path, passport_home, store_url):
    sis = make_district(tmp_path / "sis", students=20, seed=3)
    extra = tmp_path / "extra"
    shutil.copytree(sis, extra)  # the same people from a second system: merged with the SIS's (default domain)
    sources = [{"name": "sis", "type": "csv", "path": str(sis), "mode": "incremental"},
               {"name": "extra", "type": "csv", "path": str(extra), "sis_id_prefix": "x-"}]
    write_integration(tmp_path / "integrations", "lakeside", sources)
    with dg.instance_for_test() as instance:
        first = run_sync(instance, "lakeside")
        assert first["status"] == "successfully in production", first["errors"]
        before = _export(first)
        merges = [d for d in DuplicateReview(GoldenStore(store_url)).decisions("lakeside", YEAR)
                  if d["action"] == "merge" and d["entity"] == "users"]
        assert merges and all(d["primary_source"] == "sis" for d in merges)
        on_record = {e: len(_records(store_url, e, "sis")) for e in ENTITIES}

        # The SIS gets an id prefix; its next drop leaves demographics out (incremental: they stay).
        sources[0]["sis_id_prefix"] = "ps-"
        write_integration(tmp_path / "integrations", "lakeside", sources)
        (sis / "demographics.csv").unlink()
        write_manifest(sis, {f: "bulk" for f in ("orgs", "academicSessions", "courses", "classes", "users",
                                                  "enrollments")})
        student = next(r for r in read_rows(sis / "users.csv")[1] if r["role"] == "student")
        _rename(sis / "users.csv", student["givenName"], "Renamed")
        held = run_sync(instance, "lakeside")
        assert held["status"] == "held", held["errors"]
        [reason] = [r for r in held["hold_reasons"] if r.startswith("source sis:")]
        assert "sis_id_prefix changed (none -> 'ps-')" in reason
        # Held: nothing of it is in the store yet.
        assert {e: len(_records(store_url, e, "sis")) for e in ENTITIES} == on_record
        assert not any(r["sourced_id"].startswith("ps-") for r in _records(store_url, "users", "sis"))

        done = approve_held(instance, "lakeside", held["version"])
        assert done["status"] == "successfully in production", done["errors"]
        [version] = [v for v in GoldenStore(store_url).versions("lakeside", YEAR) if v.number == held["version"]]
        changes = version.changes
        for entity in ENTITIES:
            assert changes[entity]["deleted"] == on_record[entity], entity  # every old key goes
            assert changes[entity]["added"] == on_record[entity], entity  # under its new key
        after = _export(done)

    # Each record once, under the ids delivered before: golden ids carried, merges kept.
    for entity in ENTITIES:
        assert Counter(_ids(after, entity)) == Counter(_ids(before, entity)), entity
    assert sum(r["givenName"] == "Renamed" for r in after["users"]) == 1  # the drop's own row won
    for entity in ENTITIES:  # the demographics it did not resend were carried too
        records = _records(store_url, entity, "sis")
        assert len(records) == on_record[entity] and all(r["sourced_id"].startswith("ps-") for r in records)
    # The merge decisions name the SIS's records by their new ids.
    moved = [d for d in DuplicateReview(GoldenStore(store_url)).decisions("lakeside", YEAR)
             if d["action"] == "merge" and d["entity"] == "users"]
    assert len(moved) == len(merges) and all(d["primary_sourced_id"].startswith("ps-") for d in moved)


def test_carried_records_are_not_changed_again_by_the_next_sync(tmp_path, passport_home, sqlite_store):
    sis = make_district(tmp_path / "sis", students=12, seed=5)
    sources = [{"name": "sis", "type": "csv", "path": str(sis), "mode": "incremental"}]
    write_integration(tmp_path / "integrations", "lakeside", sources)
    with dg.instance_for_test() as instance:
        assert run_sync(instance, "lakeside")["status"] == "successfully in production"
        sources[0]["sis_id_prefix"] = "ps-"
        write_integration(tmp_path / "integrations", "lakeside", sources)
        (sis / "users.csv").rename(tmp_path / "users.csv")  # carried, not resent
        write_manifest(sis, {f: "bulk" for f in ("orgs", "academicSessions", "courses", "classes", "enrollments",
                                                  "demographics")})
        held = run_sync(instance, "lakeside")
        assert held["status"] == "held", held["errors"]
        assert approve_held(instance, "lakeside", held["version"])["status"] == "successfully in production"
        # The same people sent again, one renamed: one update, not one per carried person.
        (tmp_path / "users.csv").rename(sis / "users.csv")
        write_manifest(sis, {f: "bulk" for f in ("orgs", "academicSessions", "courses", "classes", "users",
                                                  "enrollments", "demographics")})
        student = next(r for r in read_rows(sis / "users.csv")[1] if r["role"] == "student")
        _rename(sis / "users.csv", student["givenName"], "Renamed")
        again = run_sync(instance, "lakeside")
    assert again["status"] == "successfully in production", again["errors"]
    assert again["changes"]["users"] == {"added": 0, "updated": 1, "deleted": 0}
    assert all(c == {"added": 0, "updated": 0, "deleted": 0} for e, c in again["changes"].items() if e != "users")


def test_a_full_source_mapped_to_district_schools_and_renamed_is_re_keyed(tmp_path, passport_home, store_url):
    sis = make_district(tmp_path / "sis", students=15, seed=4)
    sources = [{"name": "sis", "type": "csv", "path": str(sis)}]
    write_integration(tmp_path / "integrations", "lakeside", sources, schools=SCHOOLS)
    with dg.instance_for_test() as instance:
        first = run_sync(instance, "lakeside")
        assert first["status"] == "successfully in production", first["errors"]
        before = _export(first)
        on_record = {e: len(_records(store_url, e, "sis")) for e in ENTITIES}

        sources[0].update(name="powerschool_csv",
                          schools={"mode": "explicit", "map": {"sch-0001": "bayside", "sch-0002": "truth-hs"}})
        write_integration(tmp_path / "integrations", "lakeside", sources, schools=SCHOOLS)
        held = run_sync(instance, "lakeside")
        assert held["status"] == "held", held["errors"]
        [reason] = [r for r in held["hold_reasons"] if r.startswith("source powerschool_csv:")]
        assert "name changed ('sis' -> 'powerschool_csv')" in reason
        assert "schools changed (none -> explicit map of 2 school(s))" in reason
        done = approve_held(instance, "lakeside", held["version"])
        assert done["status"] == "successfully in production", done["errors"]
        after = _export(done)

    assert all(not _records(store_url, e, "sis") for e in ENTITIES)  # every old key deleted
    for entity in ENTITIES:
        assert len(_records(store_url, entity, "powerschool_csv")) == on_record[entity], entity
    # People, courses, classes keep their ids; the schools are now the district's, each once.
    for entity in ("users", "courses", "classes", "enrollments", "demographics"):
        assert Counter(_ids(after, entity)) == Counter(_ids(before, entity)), entity
    schools = {o["sourcedId"]: o["name"] for o in after["orgs"] if o["type"] == "school"}
    assert sorted(schools.values()) == ["Bayside K-8", "Sojourner Truth High"]
    assert len(after["orgs"]) == len(before["orgs"])
    assert {c["orgSourcedId"] for c in after["courses"]} <= set(schools)
    assert {e["schoolSourcedId"] for e in after["enrollments"]} <= set(schools)
