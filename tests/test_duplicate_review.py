"""Duplicate people through the real sync job: unattended merges, the review queue, decisions by the
CLI that persist across syncs, undo, master fields in the delivered file, and the queue in Dagster."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import dagster as dg
import pytest
from click.testing import CliRunner

from passport_pipelines.cli.main import cli
from passport_pipelines.definitions import defs
from passport_pipelines.store.duplicate_review import DuplicateReview, RecordRef
from passport_pipelines.store.golden_store import GoldenStore
from tests.conftest import write_integration
from tests.csv_drops import PEOPLE, SCHOOLS, write_basic_identity
from tests.sync_harness import run_sync

pytestmark = pytest.mark.slow

SIS_PEOPLE = [*PEOPLE,
              {"person_id": "stu-3", "role": "student", "given_name": "Mia", "family_name": "Novak",
               "email": "novak.family@example.org", "school_id": "sch-1", "grade": "04", "state_id": "ST-3"},
              {"person_id": "stu-4", "role": "student", "given_name": "Max", "family_name": "Novak",
               "email": "novak.family@example.org", "school_id": "sch-1", "grade": "04", "state_id": "ST-4"}]
# The same people as another system knows them: spelled differently, and with other usernames.
DIRECTORY_PEOPLE = [
    {"person_id": "g-1", "role": "student", "given_name": "ADA ", "family_name": "Okafor", "email": "Ada@Example.org",
     "username": "ada.okafor", "school_id": "sch-1", "grade": "03"},
    {"person_id": "g-2", "role": "teacher", "given_name": "Cleo", "family_name": "Park",
     "email": "cleo.park@example.org", "username": "cpark", "school_id": "sch-1"},
]
DOMAINS = [
    {"name": "name_and_email", "attributes": ["given_name", "family_name", "email"]},
    {"name": "name_only", "attributes": ["given_name", "family_name"], "resolution": "manual"},
    {"name": "family_and_email", "attributes": ["family_name", "email"]},
]


def _delivered_users(summary: dict) -> list[dict]:
    with zipfile.ZipFile(summary["deliveries"][0]) as z:
        return list(csv.DictReader(io.TextIOWrapper(z.open("users.csv"), encoding="utf-8")))


def _cli(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_duplicates_are_merged_queued_resolved_and_undone_across_syncs(tmp_path, passport_home, store_url):
    sis = write_basic_identity(tmp_path / "sis", people=SIS_PEOPLE, schools=SCHOOLS)
    directory = write_basic_identity(tmp_path / "directory", people=DIRECTORY_PEOPLE, schools=SCHOOLS[:1])
    write_integration(tmp_path / "integrations", "lakeside", [
        {"name": "sis", "type": "csv", "path": str(sis), "schema": "passport-basic-identity"},
        {"name": "directory", "type": "csv", "path": str(directory), "schema": "passport-basic-identity"},
    ], reconciliation={"domains": {"users": DOMAINS}, "distinguishing": ["state_id"]},
        master_fields={"users": {"username": ["directory", "sis"]}})
    store = GoldenStore(store_url)
    review = DuplicateReview(store)
    with dg.instance_for_test() as instance:
        first = run_sync(instance, "lakeside")
        assert first["status"] == "successfully in production", first["errors"]

        # Ada is one person: the directory's record joined the SIS's golden id, unattended.
        keys = {(k["source"], k["sourced_id"]): k["golden_id"]
                for k in store.current_keys("lakeside", "2025-2026", "users").to_pylist()}
        assert keys[("directory", "g-1")] == keys[("sis", "stu-1")]
        assert keys[("directory", "g-2")] != keys[("sis", "tch-1")]
        [merge] = [d for d in review.decisions("lakeside") if d["action"] == "merge"]
        assert (merge["primary_source"], merge["primary_sourced_id"]) == ("sis", "stu-1")
        assert merge["domain"] == "name_and_email"
        assert set(merge["explanation"]["agreed"]) == {"given_name", "family_name", "email"}

        # The twins share a family e-mail but not a state id: queued, never merged. Cleo matches
        # by name only, a manual domain: queued.
        cases = {(c["left_sourced_id"], c["right_sourced_id"]): c for c in review.cases("lakeside")}
        assert set(cases) == {("stu-3", "stu-4"), ("g-2", "tch-1")}  # pairs in record-key order
        twins = cases[("stu-3", "stu-4")]
        assert twins["domain"] == "family_and_email" and "state_id" in twins["reason"]
        assert "Novak" not in str(twins) and "novak" not in twins["reason"]  # ids and field names only

        delivered = _delivered_users(first)
        adas = [u for u in delivered if u["familyName"] == "Okafor"]
        assert len(adas) == 1 and adas[0]["sourcedId"] == keys[("sis", "stu-1")]
        assert adas[0]["username"] == "ada.okafor"  # master field: the directory's username wins
        assert adas[0]["givenName"] == "Ada"  # the SIS ranks first for every other field
        lineage = json.loads(_cli("duplicates", "person", "lakeside", keys[("sis", "stu-1")], "--school-year",
                                  "2025-2026", "--json"))
        assert [r["record"] for r in lineage["records"]] == ["directory:g-1", "sis:stu-1"]
        assert lineage["lineage"]["username"] == "directory:g-1" and lineage["lineage"]["given_name"] == "sis:stu-1"
        assert lineage["lineage"]["state_id"] == "sis:stu-1"  # only the SIS has one

        queue = instance.get_latest_materialization_event(dg.AssetKey("duplicate_review_queue"))
        meta = queue.asset_materialization.metadata
        assert meta["pending"].value == 2 and meta["new_cases"].value == 2 and meta["merged_this_sync"].value == 1
        assert meta["pending_by_domain"].value == {"family_and_email": 1, "name_only": 1}
        assert len(meta["top_pending_cases"].value.records) == 2
        assert first["checks"]["review_queue_growth"]["passed"] is False

        listed = _cli("duplicates", "list", "lakeside")
        assert "sis:stu-3 ~ sis:stu-4" in listed and "Novak" not in listed
        cleo_case = next(c for k, c in cases.items() if "tch-1" in k)
        out = _cli("duplicates", "resolve", str(cleo_case["id"]), "--primary", "sis:tch-1", "--take", "email",
                   "--secondary", "ignore", "--by", "registrar@lakeside.example")
        ignore_decision = int(out.split("decision ")[1].split()[0])
        # The same from the Launchpad: the resolve_duplicate job with config.
        resolved = defs.resolve_job_def("resolve_duplicate").execute_in_process(instance=instance, run_config={
            "ops": {"resolve_case": {"config": {"case": twins["id"], "primary": "sis:stu-3",
                                                "secondary": "create-new", "by": "registrar@lakeside.example"}}}})
        assert resolved.success
        assert review.cases("lakeside") == []

        second = run_sync(instance, "lakeside")  # nothing changed in the files; decisions hold
        assert second["status"] == "successfully in production", second["errors"]
        assert review.cases("lakeside") == []
        # The decisions alone make a new delivery: Cleo once, with the e-mail taken from the directory.
        delivered = _delivered_users(second)
        assert second["deliveries"][0] != first["deliveries"][0]
        cleos = [u for u in delivered if u["familyName"] == "Park"]
        assert len(cleos) == 1 and cleos[0]["email"] == "cleo.park@example.org"
        assert cleos[0]["sourcedId"] == keys[("sis", "tch-1")]
        cleo = review.person("lakeside", "2025-2026", keys[("sis", "tch-1")])
        assert cleo["lineage"]["email"] == "directory:g-2"  # taken by the reviewer
        assert cleo["lineage"]["given_name"] == "sis:tch-1"
        assert "username" not in cleo["lineage"]  # the redundant record's username is not given to Cleo
        assert "cpark" not in {u["username"] for u in delivered}
        assert len([u for u in delivered if u["familyName"] == "Novak"]) == 2

        # Undo the merge: Ada is two people again, and the next sync does not merge them back.
        _cli("duplicates", "undo", str(merge["id"]), "--by", "registrar@lakeside.example")
        keys = {(k["source"], k["sourced_id"]): k["golden_id"]
                for k in store.current_keys("lakeside", "2025-2026", "users").to_pylist()}
        assert keys[("directory", "g-1")] != keys[("sis", "stu-1")]
        write_basic_identity(directory, people=[{**DIRECTORY_PEOPLE[0], "grade": "04"}, DIRECTORY_PEOPLE[1]],
                             schools=SCHOOLS[:1])
        third = run_sync(instance, "lakeside")
        assert third["status"] == "successfully in production", third["errors"]
        keys = {(k["source"], k["sourced_id"]): k["golden_id"]
                for k in store.current_keys("lakeside", "2025-2026", "users").to_pylist()}
        assert keys[("directory", "g-1")] != keys[("sis", "stu-1")]
        assert len([u for u in _delivered_users(third) if u["familyName"] == "Okafor"]) == 2

    # Undoing the resolution puts the case back in the queue; the log keeps every step.
    _cli("duplicates", "undo", str(ignore_decision), "--by", "registrar@lakeside.example")
    assert [c["id"] for c in review.cases("lakeside")] == [cleo_case["id"]]
    actions = [d["action"] for d in review.decisions("lakeside")]
    assert actions == ["merge", "ignore", "create-new", "undo", "create-new", "undo"]
    store.dispose()


def test_a_deleted_secondary_leaves_now_and_comes_back_with_a_later_sync(tmp_path, passport_home, store_url):
    sis = write_basic_identity(tmp_path / "sis", people=PEOPLE, schools=SCHOOLS)
    directory = write_basic_identity(tmp_path / "directory", people=DIRECTORY_PEOPLE, schools=SCHOOLS[:1])
    write_integration(tmp_path / "integrations", "lakeside", [
        {"name": "sis", "type": "csv", "path": str(sis), "schema": "passport-basic-identity"},
        {"name": "directory", "type": "csv", "path": str(directory), "schema": "passport-basic-identity"},
    ], reconciliation={"domains": {"users": [DOMAINS[1]]}})  # names only, for review
    store = GoldenStore(store_url)
    review = DuplicateReview(store)
    with dg.instance_for_test() as instance:
        assert run_sync(instance, "lakeside")["status"] == "successfully in production"
        ada = next(c for c in review.cases("lakeside") if "stu-1" in (c["left_sourced_id"], c["right_sourced_id"]))
        decision = review.resolve(ada["id"], primary=RecordRef("sis", "stu-1"), secondary_action="delete",
                                  by="registrar@lakeside.example")
        assert ("directory", "g-1") not in {(k["source"], k["sourced_id"]) for k in
                                            store.current_keys("lakeside", "2025-2026", "users").to_pylist()}
        second = run_sync(instance, "lakeside")  # the very files committed already: nothing to apply again
        assert [u["username"] for u in _delivered_users(second) if u["familyName"] == "Okafor"] == ["ada.o"]
        # The decision changed who is delivered: nothing of the last package is copied.
        [record] = instance.fetch_materializations(dg.AssetKey("oneroster_exports"), limit=1).records
        assert [r.data["copied"] for r in record.asset_materialization.metadata["destinations"].value.records] == [""]

        write_basic_identity(directory, people=[{**DIRECTORY_PEOPLE[0], "grade": "04"}, DIRECTORY_PEOPLE[1]],
                             schools=SCHOOLS[:1])
        third = run_sync(instance, "lakeside")  # changed at the source: back, as a record of Ada
        assert third["changes"]["users"]["added"] == 1
        keys = {(k["source"], k["sourced_id"]): k["golden_id"]
                for k in store.current_keys("lakeside", "2025-2026", "users").to_pylist()}
        assert keys[("directory", "g-1")] == keys[("sis", "stu-1")]
        assert len([u for u in _delivered_users(third) if u["familyName"] == "Okafor"]) == 1
        assert ada["id"] not in {c["id"] for c in review.cases("lakeside")}  # not offered again
    assert [(d["id"], d["action"]) for d in review.decisions("lakeside")] == [(decision, "delete")]
    store.dispose()
