"""Gradebook and resources data (OneRoster 1.1 / 1.2 categories, line items, results, score scales, learning
objective ids and resources): read from CSV drops, validated, kept versioned in the golden store, and
delivered only to the destinations that ask for them, behind their privacy shield."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow as pa
import pytest
from pydantic import ValidationError

from passport_pipelines.config.destinations import OneRosterCsvDestination, PrivacyShield
from passport_pipelines.delivery.oneroster_export import write_oneroster_zip
from passport_pipelines.delivery.privacy_shield import shield_frames
from passport_pipelines.model import entities
from passport_pipelines.model.frames import to_frame
from passport_pipelines.normalize.csv_drops import CsvTables, normalize_drop
from passport_pipelines.store.golden_store import GoldenStore
from passport_pipelines.validation.oneroster.validation import validate_package
from tests.conformance.exports import assert_conforms
from tests.conftest import write_integration
from tests.oneroster_packages import gradebook_rows, write_package
from tests.sync_harness import approve_held, run_sync

YEAR = "2025-2026"
ROSTER = ["orgs", "academic_sessions", "courses", "classes", "users", "enrollments", "demographics", "agents"]
GRADEBOOK_11 = ["categories", "line_items", "results", "resources", "class_resources", "course_resources"]
GRADEBOOK_12 = [*GRADEBOOK_11, "score_scales", "line_item_score_scales", "result_score_scales",
                "line_item_learning_objective_ids", "result_learning_objective_ids", "user_resources"]


def _members(path: Path) -> dict[str, list[dict]]:
    with zipfile.ZipFile(path) as z:
        return {n: list(csv.DictReader(io.TextIOWrapper(z.open(n), encoding="utf-8"))) for n in z.namelist()}


def _manifest(members: dict) -> dict[str, str]:
    return {r["propertyName"]: r["value"] for r in members["manifest.csv"]}


def _only(drop, rule: str):
    [tally] = [t for t in drop.report.tallies.values() if t.rule == rule]
    return tally


# --- validation ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_the_gradebook_files_of_each_version_validate_and_normalize(tmp_path, version):
    drop = validate_package(write_package(tmp_path / "pkg", version, gradebook=True), f"oneroster-{version}")
    assert drop.ok and drop.report.count() == 0, drop.report.render()
    expected = {"categories": 1, "lineItems": 2, "results": 4, "resources": 1, "classResources": 1,
                "courseResources": 1}
    if version == "1.2":
        expected |= {"scoreScales": 1, "lineItemScoreScales": 1, "resultScoreScales": 1,
                     "lineItemLearningObjectiveIds": 1, "resultLearningObjectiveIds": 1, "userResources": 1}
    assert {f: n for f, n in drop.rows.items() if f in expected} == expected


def test_bad_gradebook_values_are_named_by_file_line_column_and_rule_without_quoting_scores(tmp_path):
    rows = gradebook_rows("1.1")
    rows["results"][0]["scoreStatus"] = "graded"  # line 2
    rows["results"][1]["score"] = "eighty-one"  # line 3: student data, never quoted
    rows["lineItems"][1]["dueDate"] = "next week"  # line 3
    drop = validate_package(write_package(tmp_path / "pkg", rows=rows), "oneroster-1.1")
    assert not drop.ok
    enum = _only(drop, "value.enum").samples[0]
    assert (enum.file, enum.line, enum.column, enum.value) == ("results.csv", 2, "scoreStatus", "graded")
    assert "fully graded" in enum.message
    number = _only(drop, "value.number").samples[0]
    assert (number.file, number.line, number.column) == ("results.csv", 3, "score")
    assert "eighty" not in str(number.value) and number.value == "<10 characters withheld>"
    date = _only(drop, "value.date").samples[0]
    assert (date.file, date.line, date.column) == ("lineItems.csv", 3, "dueDate")


def test_gradebook_rows_pointing_at_what_is_not_there_are_left_out_with_what_depends_on_them(tmp_path):
    rows = gradebook_rows("1.1")
    rows["lineItems"][1]["classSourcedId"] = "cls-404"  # li-2 of no class: left out, and its results
    rows["results"][0]["studentSourcedId"] = "stu-404"  # a result of no student
    rows["results"].append({**rows["results"][1], "sourcedId": "res-x", "lineItemSourcedId": "li-404"})
    drop = validate_package(write_package(tmp_path / "pkg", rows=rows), "oneroster-1.1")
    assert drop.ok
    assert drop.filtered["lineItems"] == 1
    # res-1-stu-1 (no student), res-x (no line item), and li-2's two results (their line item left out)
    assert drop.filtered["results"] == 4
    kept = [r[0] for r in drop.con.execute("SELECT sourcedId FROM results ORDER BY 1").fetchall()]
    assert kept == ["res-1-stu-2"]
    missing = _only(drop, "reference.missing")
    assert {(f.file, f.column) for f in missing.samples} >= {("lineItems.csv", "classSourcedId"),
                                                             ("results.csv", "studentSourcedId"),
                                                             ("results.csv", "lineItemSourcedId")}


# --- destinations and the shield (without a sync) ---------------------------------------------------------

def test_gradebook_is_delivered_only_where_the_shield_lists_it():
    assert not PrivacyShield().allows("results") and PrivacyShield().allows("users")
    shield = PrivacyShield(entities=[*ROSTER, "categories", "line_items", "results"])
    assert shield.allows("results") and not shield.allows("resources")
    with pytest.raises(ValidationError, match="results needs line_items"):
        PrivacyShield(entities=[*ROSTER, "results"])
    with pytest.raises(ValidationError, match="OneRoster 1.1 has no file for it"):
        OneRosterCsvDestination(type="oneroster-1.1-csv", shield={"entities": [*ROSTER, "resources", "courses",
                                                                                "user_resources"]})
    with pytest.raises(ValidationError, match="always delivered"):
        PrivacyShield(attributes={"results": ["score_status", "score"]})


def _frames(folder: Path, version: str) -> dict:
    """The minimal package with its gradebook (and a negative score) as canonical frames, as a delivery
    sees them (its ids stand for golden ids: one source, nothing merged)."""
    drop = validate_package(write_package(folder, version, gradebook=True,
                                          extra_rows={"results": [{"sourcedId": "res-neg", "score": "-2.5"}]}),
                            f"oneroster-{version}")
    out = normalize_drop(CsvTables.of(drop), source="sis", district="d", school_year=YEAR)
    return {e: to_frame(drop.con.execute(f"SELECT * FROM {out[e]}").to_arrow_table()) for e in entities.ENTITIES}


@pytest.mark.parametrize("version,wanted", [("1.1", GRADEBOOK_11), ("1.2", GRADEBOOK_12)])
def test_an_export_that_asks_for_the_gradebook_has_its_files_in_the_versions_columns(tmp_path, version, wanted):
    frames = _frames(tmp_path / "pkg", version)
    shield = PrivacyShield(entities=[*ROSTER, *(["roles"] if version == "1.2" else []), *wanted])
    kept, absent = shield_frames(frames, shield)
    write_oneroster_zip(kept, tmp_path / "out.zip", version, absent=absent)
    assert_conforms(tmp_path / "out.zip", version)
    members = _members(tmp_path / "out.zip")
    manifest = _manifest(members)
    files = {"categories", "lineItems", "results", "resources", "classResources", "courseResources"}
    if version == "1.2":
        files |= {"scoreScales", "lineItemScoreScales", "resultScoreScales", "lineItemLearningObjectiveIds",
                  "resultLearningObjectiveIds", "userResources"}
    assert {f for f in files if manifest[f"file.{f}"] == "bulk"} == files
    results = {r["sourcedId"]: r for r in members["results.csv"]}
    assert results["res-neg"]["score"] == "-2.5"  # a number, not a formula: no apostrophe
    assert results["res-1-stu-1"]["score"] == "87.5" and results["res-1-stu-1"]["scoreStatus"] == "fully graded"
    [li] = [r for r in members["lineItems.csv"] if r["sourcedId"] == "li-1"]
    session = "academicSessionSourcedId" if version == "1.2" else "gradingPeriodSourcedId"
    assert li[session] == "term-1" and li["classSourcedId"] == "cls-1"
    if version == "1.2":
        assert li["schoolSourcedId"] == "sch-1"
        assert list(members["lineItems.csv"][0]) == ["sourcedId", "status", "dateLastModified", "title", "description",
                                                      "assignDate", "dueDate", "classSourcedId", "categorySourcedId",
                                                      "academicSessionSourcedId", "resultValueMin", "resultValueMax",
                                                      "schoolSourcedId"]
        assert members["resultLearningObjectiveIds.csv"][0]["source"] == "case"
        assert members["scoreScales.csv"][0]["scoreScaleValue"] == "{A:90},{B:80},{C:70}"


def test_an_export_that_does_not_ask_declares_the_gradebook_absent(tmp_path):
    frames = _frames(tmp_path / "pkg", "1.2")
    kept, absent = shield_frames(frames, PrivacyShield())
    write_oneroster_zip(kept, tmp_path / "out.zip", "1.2", absent=absent)
    assert_conforms(tmp_path / "out.zip", "1.2")
    members = _members(tmp_path / "out.zip")
    manifest = _manifest(members)
    for f in ("categories", "lineItems", "results", "scoreScales", "resources", "userResources"):
        assert manifest[f"file.{f}"] == "absent" and f"{f}.csv" not in members
    assert manifest["file.users"] == "bulk"


def test_the_shield_keeps_the_gradebook_of_its_schools_and_can_withhold_scores(tmp_path):
    frames = _frames(tmp_path / "pkg", "1.2")
    # A second school with a class, a line item and a result of a student who is only there.
    extra = {
        "orgs": {"sourced_id": "sch-2", "name": "Other High", "type": "school", "parent_sourced_id": "dist-1"},
        "classes": {"sourced_id": "cls-2", "school_sourced_id": "sch-2", "course_sourced_id": "crs-1"},
        "users": {"sourced_id": "stu-9", "org_sourced_ids": "sch-2", "role": "student"},
        "line_items": {"sourced_id": "li-9", "class_sourced_id": "cls-2"},
        "results": {"sourced_id": "res-9", "line_item_sourced_id": "li-9", "student_sourced_id": "stu-9"},
    }
    for entity, row in extra.items():
        base = frames[entity].iloc[[0]].copy()
        for column, value in row.items():
            base[column] = value
        frames[entity] = to_frame(pa.Table.from_pandas(pd.concat([frames[entity], base], ignore_index=True),
                                                       preserve_index=False))
    # Results delivered without any of the attributes a shield may withhold (score, comment...).
    shield = PrivacyShield(schools=["sch-1"], entities=[*ROSTER, "roles", *GRADEBOOK_12], attributes={"results": []})
    kept, _ = shield_frames(frames, shield)
    assert set(kept["line_items"]["sourced_id"]) == {"li-1", "li-2"}
    assert "res-9" not in set(kept["results"]["sourced_id"]) and len(kept["results"]) == 5
    assert kept["results"]["score"].isna().all() and kept["results"]["comment"].isna().all()
    assert kept["results"]["score_status"].notna().all()  # what the format requires stays
    assert set(kept["class_resources"]["class_sourced_id"]) == {"cls-1"}


# --- through the sync --------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("store_url", ["sqlite", "postgres"], indirect=True)
def test_the_gradebook_is_kept_versioned_and_its_changes_detected(tmp_path, store_url):
    pkg = tmp_path / "pkg"
    write_package(pkg, "1.2", gradebook=True)
    write_integration(tmp_path / "integrations", "gradebook", [
        {"name": "sis", "type": "csv", "path": str(pkg), "schema": "oneroster-1.2"}], destinations=[
        {"name": "lms", "type": "oneroster-1.2-csv", "folder": str(tmp_path / "lms"),
         "shield": {"entities": [*ROSTER, "roles", *GRADEBOOK_12]}},
        {"name": "library", "type": "oneroster-1.2-csv", "folder": str(tmp_path / "library")}])
    with dg.instance_for_test() as instance:
        first = run_sync(instance, "gradebook")
        assert first["status"] == "successfully in production", first["errors"]
        assert first["changes"]["results"] == {"added": 4, "updated": 0, "deleted": 0}
        assert first["changes"]["result_learning_objective_ids"]["added"] == 1
        # A score changes, li-2 goes (bulk file): its results go with it.
        rows = gradebook_rows("1.2")
        rows["results"][0]["score"] = "91"
        rows["lineItems"] = rows["lineItems"][:1]
        write_package(pkg, "1.2", gradebook=True, rows={"lineItems": rows["lineItems"], "results": rows["results"]})
        held = run_sync(instance, "gradebook")
        # Half the results deleted: the gradebook is held for approval like any rostering entity.
        assert held["status"] == "held" and any(r.startswith("results: 2 of 4 deleted") for r in held["hold_reasons"])
        second = approve_held(instance, "gradebook", held["version"])
    assert second["status"] == "successfully in production", second["errors"]
    assert second["changes"]["line_items"] == {"added": 0, "updated": 0, "deleted": 1}
    assert second["changes"]["results"] == {"added": 0, "updated": 1, "deleted": 2}
    store = GoldenStore(store_url)
    version = store.latest_version("gradebook", YEAR)
    changed = {(c["sourced_id"], c["change"], c["changed_fields"]) for c in store.record_changes(version.id)
               if c["entity"] == "results"}
    assert ("res-1-stu-1", "updated", "score") in changed
    assert {c[0] for c in changed if c[1] == "deleted"} == {"res-2-stu-1", "res-2-stu-2"}
    assert store.count_records("gradebook", YEAR)["results"] == 2
    for path in second["deliveries"]:  # both destinations' files, gradebook or not, conform to 1.2
        assert_conforms(Path(path), "1.2")
    lms, library = (_members(Path(p)) for p in sorted(second["deliveries"]))
    if "results.csv" not in lms:
        lms, library = library, lms
    assert sorted(r["score"] for r in lms["results.csv"]) == ["91", "92"]
    assert _manifest(library)["file.results"] == "absent" and "results.csv" not in library


def test_a_student_or_class_the_rules_leave_out_takes_its_gradebook_with_it(tmp_path, passport_home):
    """A filtered student's results are not kept anywhere (student data), nor a filtered class's line items."""
    from passport_pipelines.config.loader import load_integration
    from tests.canonical_tables import canonical_tables

    pkg = write_package(tmp_path / "pkg", "1.1", gradebook=True)
    integration = load_integration(write_integration(tmp_path / "integrations", "gradebook", [
        {"name": "sis", "type": "csv", "path": str(pkg), "filters": {
            "student": [{"exclude_if": {"all": [{"field": "identifier", "op": "eq", "value": "S001"}]}}]}}]))
    tables = canonical_tables(integration, "sis")
    assert sorted(tables["results"].column("sourced_id").to_pylist()) == ["res-1-stu-2", "res-2-stu-2"]

    integration = load_integration(write_integration(tmp_path / "integrations", "gradebook", [
        {"name": "sis", "type": "csv", "path": str(pkg), "filters": {"class": [{"template": "exclude_schools",
                                                                                "schools": ["sch-1"]}]}}]))
    tables = canonical_tables(integration, "sis")
    assert tables["line_items"].num_rows == 0 and tables["results"].num_rows == 0
    assert tables["class_resources"].num_rows == 0 and tables["course_resources"].num_rows == 1


def test_a_12_gradebook_exported_as_11_leaves_out_what_11_cannot_carry(tmp_path):
    """1.1 requires a line item's resultValueMin/Max and a result's score; 1.2 does not. Such rows (and the
    results of a line item left out) are left out of the 1.1 file rather than written invalid."""
    frames = _frames(tmp_path / "pkg", "1.2")
    items, results = frames["line_items"], frames["results"]
    items.loc[items["sourced_id"] == "li-2", "result_value_max"] = None
    results.loc[results["sourced_id"] == "res-1-stu-2", "score"] = None  # a textScore only
    kept, absent = shield_frames(frames, PrivacyShield(entities=[*ROSTER, *GRADEBOOK_11]))
    write_oneroster_zip(kept, tmp_path / "out.zip", "1.1", absent=absent)
    assert_conforms(tmp_path / "out.zip", "1.1")
    members = _members(tmp_path / "out.zip")
    assert [r["sourcedId"] for r in members["lineItems.csv"]] == ["li-1"]
    assert sorted(r["sourcedId"] for r in members["results.csv"]) == ["res-1-stu-1", "res-neg"]
    write_oneroster_zip(kept, tmp_path / "12.zip", "1.2", absent=absent)  # 1.2 carries them all
    assert len(_members(tmp_path / "12.zip")["results.csv"]) == len(results)
