"""Domains of uniqueness for orgs, academic sessions, courses and classes: the same school, course or class
from two sources (an SIS and a CSV drop, each with its own ids) becomes one golden record, unattended or
through the review queue, and what points at either copy points at the golden record in deliveries."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import dagster as dg
import pytest

from passport_pipelines.store.duplicate_review import DuplicateReview, RecordRef
from passport_pipelines.store.golden_store import GoldenStore
from tests.conformance.exports import assert_conforms
from tests.conftest import write_integration
from tests.oneroster_packages import valid_rows, write_package
from tests.sync_harness import run_sync

pytestmark = pytest.mark.slow  # whole syncs through Dagster

YEAR = "2025-2026"
# The CSV drop's own ids for what the SIS calls dist-1, sch-1, ay-2026, term-1, crs-1 and cls-1.
DROP_IDS = {"dist-1": "D-100", "sch-1": "S-200", "ay-2026": "Y-26", "term-1": "T-26-1", "crs-1": "C-300",
            "cls-1": "K-400"}
DOMAINS = {
    "orgs": [{"name": "nces", "attributes": ["identifier"]}],
    "academic_sessions": [{"name": "dates", "attributes": ["type", "start_date", "end_date"]}],
    "courses": [{"name": "code_at_school", "attributes": ["course_code", "org_sourced_id"]}],
    "classes": [{"name": "code_of_course", "attributes": ["class_code", "course_sourced_id"]}],
}


def _members(path: str) -> dict[str, list[dict]]:
    """The delivered zip's files, once it is checked to conform to the 1.1 binding (merged records too)."""
    assert_conforms(Path(path), "1.1")
    with zipfile.ZipFile(path) as z:
        return {n: list(csv.DictReader(io.TextIOWrapper(z.open(n), encoding="utf-8"))) for n in z.namelist()}


def _drop_rows(**changes) -> dict:
    """The minimal package as a second system exports it: its own ids, its own spelling."""
    rows = valid_rows("1.1")
    for file_rows in rows.values():
        for row in file_rows:
            for column, value in list(row.items()):
                if column == "sourcedId" or column.endswith("SourcedId") or column.endswith("SourcedIds"):
                    row[column] = ",".join(DROP_IDS.get(v, v) for v in value.split(","))
    rows["courses"][0].update(courseCode="ma-101", title="ALGEBRA 1")  # same code, punctuated; another title
    rows["classes"][0].update(classCode="MA101 1")
    for file, updates in changes.items():
        rows[file][0].update(updates)
    return rows


def _district(tmp_path, domains: dict | None, district: str = "twosource", **drop_changes) -> None:
    """The district ``district``: the SIS's package in ``tmp_path/sis``, the drop's in ``tmp_path/drop`` (or
    under ``tmp_path/<district>`` for a second district of the test)."""
    folder = tmp_path if district == "twosource" else tmp_path / district
    sis = write_package(folder / "sis", "1.1")
    drop = write_package(folder / "drop", "1.1", rows=_drop_rows(**drop_changes))
    extra = {"reconciliation": {"domains": domains}} if domains is not None else {}
    write_integration(tmp_path / "integrations", district, [
        {"name": "sis", "type": "csv", "path": str(sis)}, {"name": "drop", "type": "csv", "path": str(drop)}],
        destinations=[{"name": "lms", "type": "oneroster-1.1-csv", "folder": str(folder / "lms")}], **extra)


def test_the_same_school_session_course_and_class_from_two_sources_is_one_golden_record(tmp_path, sqlite_store):
    _district(tmp_path, DOMAINS)
    with dg.instance_for_test() as instance:
        first = run_sync(instance, "twosource")
        assert first["status"] == "successfully in production", first["errors"]
        delivered = _members(first["deliveries"][0])
        # Unchanged data synced again: the merges hold, the golden ids delivered stay the same.
        write_package(tmp_path / "drop", "1.1", rows=_drop_rows(enrollments={"primary": "false"}))
        second = run_sync(instance, "twosource")
    assert sorted(o["name"] for o in delivered["orgs.csv"]) == ["Lincoln High", "Unified District"]
    assert len(delivered["academicSessions.csv"]) == 2
    [course] = delivered["courses.csv"]
    assert course["title"] == "Algebra I"  # the first source's value (master fields: the source order)
    [klass] = delivered["classes.csv"]
    school = next(o["sourcedId"] for o in delivered["orgs.csv"] if o["type"] == "school")
    assert (klass["courseSourcedId"], klass["schoolSourcedId"]) == (course["sourcedId"], school)
    # Both sources' enrollments point at the one golden class (and the people at one golden person each).
    assert {e["classSourcedId"] for e in delivered["enrollments.csv"]} == {klass["sourcedId"]}
    assert len(delivered["enrollments.csv"]) == 6 and len(delivered["users.csv"]) == 4
    again = _members(second["deliveries"][0])
    assert [c["sourcedId"] for c in again["classes.csv"]] == [klass["sourcedId"]]
    assert [c["sourcedId"] for c in again["courses.csv"]] == [course["sourcedId"]]

    store = GoldenStore(sqlite_store)
    log = DuplicateReview(store).decisions("twosource", YEAR)
    merged = {(d["entity"], d["secondary_source"], d["secondary_sourced_id"], d["domain"]) for d in log
              if d["action"] == "merge" and d["entity"] != "users"}
    assert merged == {("orgs", "drop", "D-100", "nces"), ("orgs", "drop", "S-200", "nces"),
                      ("academic_sessions", "drop", "Y-26", "dates"), ("academic_sessions", "drop", "T-26-1", "dates"),
                      ("courses", "drop", "C-300", "code_at_school"), ("classes", "drop", "K-400", "code_of_course")}
    explanation = next(d["explanation"] for d in log if d["entity"] == "courses")
    assert explanation["agreed"] == ["course_code", "org_sourced_id"] and explanation["score"] == 1.0


def test_without_domains_each_source_keeps_its_own_copy(tmp_path, sqlite_store):
    _district(tmp_path, None)
    with dg.instance_for_test() as instance:
        summary = run_sync(instance, "twosource")
    delivered = _members(summary["deliveries"][0])
    assert len(delivered["courses.csv"]) == 2 and len(delivered["classes.csv"]) == 2
    assert len({e["classSourcedId"] for e in delivered["enrollments.csv"]}) == 2


def test_title_and_school_match_through_the_golden_school_not_the_ids(tmp_path, sqlite_store):
    by_title = {"courses": [{"name": "title_at_school", "attributes": ["title", "org_sourced_id"]}]}
    _district(tmp_path, by_title, courses={"title": "algebra i"})
    with dg.instance_for_test() as instance:
        apart = run_sync(instance, "twosource")
    # The two sources name the school sch-1 and S-200: two golden schools, so two courses.
    assert len(_members(apart["deliveries"][0])["courses.csv"]) == 2

    _district(tmp_path, {**by_title, "orgs": DOMAINS["orgs"]}, "merged", courses={"title": "algebra i"})
    with dg.instance_for_test() as instance:
        merged = run_sync(instance, "merged")
    [course] = _members(merged["deliveries"][0])["courses.csv"]
    assert course["title"] == "Algebra I"


def test_a_manual_domain_queues_the_pair_and_a_reviewer_merges_or_undoes_it(tmp_path, sqlite_store):
    manual = {**DOMAINS, "classes": [{**DOMAINS["classes"][0], "resolution": "manual"}]}
    _district(tmp_path, manual)
    with dg.instance_for_test() as instance:
        first = run_sync(instance, "twosource")
        assert first["duplicates"]["new_cases"] == 1
        assert len(_members(first["deliveries"][0])["classes.csv"]) == 2
        review = DuplicateReview(GoldenStore(sqlite_store))
        [case] = review.cases("twosource", YEAR)
        assert (case["entity"], case["domain"]) == ("classes", "code_of_course")
        assert review.queue_counts("twosource", YEAR)["pending_by_domain"] == {"classes:code_of_course": 1}
        decision = review.resolve(case["id"], primary=RecordRef("sis", "cls-1"), secondary_action="ignore",
                                  take=["location"], by="registrar@example.org")
        write_package(tmp_path / "drop", "1.1", rows=_drop_rows(classes={"location": "Lab 3"}))
        resolved = run_sync(instance, "twosource")
        [klass] = _members(resolved["deliveries"][0])["classes.csv"]
        assert klass["location"] == "Lab 3"  # taken from the drop's class, the rest from the SIS's
        assert {e["classSourcedId"] for e in _members(resolved["deliveries"][0])["enrollments.csv"]} == \
            {klass["sourcedId"]}
        review.undo(decision, by="registrar@example.org")
        write_package(tmp_path / "drop", "1.1", rows=_drop_rows(classes={"location": "Lab 4"}))
        undone = run_sync(instance, "twosource")
    assert len(_members(undone["deliveries"][0])["classes.csv"]) == 2
    assert undone["duplicates"].get("new_cases", 0) == 0  # the pair is not offered again


def test_records_of_one_source_never_merge_and_blank_values_never_match(tmp_path, sqlite_store):
    rows = valid_rows("1.1")
    rows["courses"].append({**rows["courses"][0], "sourcedId": "crs-2", "title": "Algebra I (again)"})
    rows["classes"][0]["classCode"] = ""
    sis = write_package(tmp_path / "sis", "1.1", rows=rows)
    drop = write_package(tmp_path / "drop", "1.1", rows=_drop_rows(classes={"classCode": ""}))
    write_integration(tmp_path / "integrations", "twosource", [
        {"name": "sis", "type": "csv", "path": str(sis)}, {"name": "drop", "type": "csv", "path": str(drop)}],
        destinations=[{"name": "lms", "type": "oneroster-1.1-csv", "folder": str(tmp_path / "lms")}],
        reconciliation={"domains": DOMAINS})
    with dg.instance_for_test() as instance:
        summary = run_sync(instance, "twosource")
    delivered = _members(summary["deliveries"][0])
    # crs-1 and crs-2 share a code at one school in one source: the SIS's own ids stand. The drop's
    # C-300 matches both; it joins crs-1 (the smaller key), and joining crs-2 too would make one course
    # of two SIS courses: that pair waits for a reviewer. Classes without a code match nothing.
    assert len(delivered["courses.csv"]) == 2 and len(delivered["classes.csv"]) == 2
    [case] = DuplicateReview(GoldenStore(sqlite_store)).cases("twosource", YEAR)
    assert (case["entity"], case["left_sourced_id"], case["right_sourced_id"]) == ("courses", "C-300", "crs-2")
    assert case["reason"] == "cluster guard: would join two records of one source"


def test_the_write_back_sees_a_school_a_reviewer_deleted_as_deliveries_do(tmp_path, sqlite_store):
    """The write-back's golden people are the deliveries' (``golden_view``): a student only the drop has, at the
    drop's copy of the school, which a reviewer then deleted as a duplicate of the SIS's, is at the golden
    school in both, not at no school in the write-back."""
    from passport_pipelines.config.loader import load_district
    from passport_pipelines.delivery.golden_frames import golden_frames
    from passport_pipelines.delivery.writeback.golden import load_golden
    from passport_pipelines.sql.engine import connect

    _district(tmp_path, {"orgs": [{**DOMAINS["orgs"][0], "resolution": "manual"}]})
    rows = _drop_rows()
    rows["users"].append({"sourcedId": "stu-9", "enabledUser": "true", "role": "student", "username": "noor.haddad",
                          "givenName": "Noor", "familyName": "Haddad", "identifier": "S999", "grades": "05",
                          "email": "noor.haddad@example.org", "orgSourcedIds": DROP_IDS["sch-1"]})
    write_package(tmp_path / "drop", "1.1", rows=rows)
    with dg.instance_for_test() as instance:
        summary = run_sync(instance, "twosource")
    assert summary["status"] == "successfully in production", summary["errors"]
    store = GoldenStore(sqlite_store)
    review = DuplicateReview(store)
    [case] = [c for c in review.cases("twosource", YEAR) if DROP_IDS["sch-1"] in (c["left_sourced_id"],
                                                                                   c["right_sourced_id"])]
    review.resolve(case["id"], primary=RecordRef("sis", "sch-1"), secondary_action="delete",
                   by="registrar@example.org")

    integration = load_district("twosource")
    version = store.latest_version("twosource", YEAR)
    orgs, users = ({(k["source"], k["sourced_id"]): k["golden_id"]
                    for k in store.current_keys("twosource", YEAR, entity).to_pylist()} for entity in ("orgs", "users"))
    assert ("drop", DROP_IDS["sch-1"]) not in orgs  # deleted: only the SIS's copy is current
    school, noor = orgs[("sis", "sch-1")], users[("drop", "stu-9")]
    delivered = golden_frames(integration, version, store).frames["users"]
    delivered = dict(zip(delivered["sourced_id"], delivered["org_sourced_ids"]))
    con = connect()
    try:
        load_golden(con, store, integration, YEAR, "sis")
        written = dict(con.execute("SELECT sourced_id, org_sourced_ids FROM golden_users").fetchall())
    finally:
        con.close()
    assert delivered[noor] == school and written[noor] == school
    assert written == delivered
    store.dispose()
