"""Nothing vanishes silently, and `passport validate` says what `passport sync` does (issue 17, points 2,
4, 6 and 9): every row read is delivered or counted with its reason, in the sync's summary, its
--json and the asset metadata; validate reaches the same verdict and counts as a first sync; a failed
sync's --json carries its findings; a row left out because of its parent names that parent."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from passport_pipelines.changes.drop_check import check_drop
from passport_pipelines.cli.main import cli
from passport_pipelines.normalize.row_accounting import unaccounted
from passport_pipelines.validation.oneroster.validation import validate_package
from tests.conftest import write_integration
from tests.oneroster_packages import valid_rows, write_package
from tests.sync_harness import run_sync

pytestmark = pytest.mark.slow

_MORE_SESSIONS = [
    {"sourcedId": "term-2", "title": "Spring 2026", "type": "semester", "startDate": "2026-01-05",
     "endDate": "2026-06-12", "parentSourcedId": "ay-2026", "schoolYear": "2026", "status": "tobedeleted"},
    {"sourcedId": "gp-1", "title": "Q1", "type": "gradingPeriod", "startDate": "2025-08-18",
     "endDate": "2025-10-17", "parentSourcedId": "term-1", "schoolYear": "2026", "status": "inactive"},
    {"sourcedId": "gp-2", "title": "Q2", "type": "gradingPeriod", "startDate": "2025-10-20",
     "endDate": "2025-12-19", "parentSourcedId": "term-1", "schoolYear": "2026"},
]
_CLASS_OF_A_MISSING_COURSE = {
    "classes": [{"sourcedId": "cls-2", "title": "Ghost", "courseSourcedId": "crs-404", "classType": "scheduled",
                 "schoolSourcedId": "sch-1", "termSourcedIds": "term-1"}],
    "enrollments": [{"sourcedId": f"enr-{i}", "classSourcedId": "cls-2", "schoolSourcedId": "sch-1",
                     "userSourcedId": user, "role": "student"} for i, user in ((4, "stu-1"), (5, "stu-2"))],
}

# name -> (OneRoster version, write_package arguments): the shapes a district's drop takes.
CASES = {
    "clean": ("1.1", {}),
    "clean 1.2 (roles, user profiles)": ("1.2", {}),
    "a dangling enrollment": ("1.1", {"cells": {("enrollments", 1, "userSourcedId"): "stu-404"}}),
    "courses declared absent": ("1.1", {"rows": {"courses": None}}),
    "bulk sessions marked tobedeleted and inactive": ("1.1", {"extra_rows": {"academicSessions": _MORE_SESSIONS}}),
    "a term marked tobedeleted that a class uses": ("1.1", {"cells": {("academicSessions", 1, "status"): "tobedeleted"}}),
    "a status outside the allowed values": ("1.1", {"cells": {("academicSessions", 1, "status"): "bogus"}}),
    "a class of a missing course": ("1.1", {"extra_rows": _CLASS_OF_A_MISSING_COURSE}),
}
# What a district engineer expects of each: the verdict both commands must give.
VERDICT = {"clean": "ok", "clean 1.2 (roles, user profiles)": "ok", "a dangling enrollment": "held",
           "courses declared absent": "held", "bulk sessions marked tobedeleted and inactive": "ok",
           "a term marked tobedeleted that a class uses": "held", "a status outside the allowed values": "fails",
           "a class of a missing course": "held"}
SYNC_VERDICT = {"successfully in production": "ok", "held": "held", "failed validation": "fails"}


def _drop(tmp_path: Path, case: str) -> tuple[Path, str]:
    version, kwargs = CASES[case]
    return write_package(tmp_path / "drop", version, **kwargs), f"oneroster-{version}"


def _integrate(tmp_path: Path, folder: Path, schema: str, **extra) -> None:
    write_integration(tmp_path / "integrations", "lakeside", [
        {"name": "sis", "type": "csv", "path": str(folder), "schema": schema, "mode": "full"}], **extra)


def _data_lines(folder: Path) -> dict[str, int]:
    """Rows of each CSV file, counted by reading it (not by the code under test)."""
    out = {}
    for path in folder.glob("*.csv"):
        if path.stem == "manifest":
            continue
        with path.open(newline="", encoding="utf-8-sig") as fh:
            out[path.stem] = sum(1 for _ in csv.reader(fh)) - 1
    return out


@pytest.mark.parametrize("case", list(CASES))
def test_validate_reaches_the_sync_verdict_and_counts(case, tmp_path, passport_home, sqlite_store):
    folder, schema = _drop(tmp_path, case)
    checked = check_drop(folder, schema, school_year="2025-2026")
    checked.drop.con.close()
    assert checked.verdict == VERDICT[case], checked.hold_reasons
    _integrate(tmp_path, folder, schema)
    with dg.instance_for_test() as instance:
        summary = run_sync(instance, "lakeside")
    assert SYNC_VERDICT.get(summary["status"]) == checked.verdict, (summary["status"], summary["errors"])
    assert summary["failed_checks"] == checked.failed_checks
    assert summary["accounting"] == checked.accounting
    assert [r for r in summary["hold_reasons"] if "left out by references" in r] == checked.hold_reasons
    if checked.verdict != "fails":
        # Every row read is delivered or counted, and "read" is what the files hold.
        assert unaccounted(summary["accounting"]) == {}
        lines = _data_lines(folder)
        entity_of = {"academicSessions": "academic_sessions", "userProfiles": "user_profiles"}
        for file, n in lines.items():
            entity = entity_of.get(file, file)
            assert summary["accounting"][entity]["read"] == n, (file, summary["accounting"].get(entity))


def test_bulk_rows_marked_tobedeleted_are_counted_not_lost(tmp_path, passport_home, sqlite_store):
    """Defect 2: 5 sessions in, 3 delivered, and the 2 others counted as tobedeleted everywhere."""
    folder, schema = _drop(tmp_path, "bulk sessions marked tobedeleted and inactive")
    drop = validate_package(folder, schema)
    assert drop.report.totals("warning") == {"bulk.tobedeleted": 2}
    assert "every row of a bulk file is active" not in drop.report.render()
    drop.con.close()
    _integrate(tmp_path, folder, schema)
    with dg.instance_for_test() as instance:
        summary = run_sync(instance, "lakeside")
        metadata = instance.get_latest_materialization_event(dg.AssetKey("normalized_rosters"))
    sessions = summary["accounting"]["academic_sessions"]
    assert (sessions["read"], sessions["delivered"], sessions["tobedeleted"]) == (5, 3, 2)
    assert summary["left_out"]["academic_sessions"] == {"tobedeleted": 2}
    assert summary["changes"]["academic_sessions"]["added"] == 3
    accounted = metadata.asset_materialization.metadata["rows_accounted"].value
    assert accounted["sis"]["academic_sessions"]["tobedeleted"] == 2


def test_a_term_marked_tobedeleted_takes_what_uses_it_with_the_reason(tmp_path):
    folder, schema = _drop(tmp_path, "a term marked tobedeleted that a class uses")
    drop = validate_package(folder, schema)
    assert drop.left_out == {"classes": {"termSourcedIds -> academicSessions: left out": 1},
                             "enrollments": {"classSourcedId -> classes: left out": 3}}
    messages = {f.file: f.message for f in drop.report.samples("filtered")}
    assert "'term-1', which was left out (it is marked tobedeleted)" in messages["classes.csv"]
    drop.con.close()


def test_a_row_left_out_with_its_parent_names_the_parent_and_why(tmp_path):
    """Defect 9: not "does not exist", but which parent was left out and why."""
    folder, schema = _drop(tmp_path, "a class of a missing course")
    drop = validate_package(folder, schema)
    by_file = {}
    for f in drop.report.samples("filtered"):
        by_file.setdefault(f.file, []).append(f.message)
    assert by_file["classes.csv"] == ["points at courses that do not exist; the row is left out"]
    assert by_file["enrollments.csv"] == [
        "points at classes 'cls-2', which was left out (its courseSourcedId points at courses 'crs-404' that do "
        "not exist); the row is left out"] * 2
    assert drop.left_out == {"classes": {"courseSourcedId -> courses: does not exist": 1},
                             "enrollments": {"classSourcedId -> classes: left out": 2}}
    drop.con.close()


def test_classes_of_absent_courses_agree_in_validate_and_sync(tmp_path, passport_home, sqlite_store):
    """Defect 4: validate no longer passes with 0 left out while the sync leaves every class out and
    exits 0; both say held, with the same counts, and the sync says it loudly."""
    folder, schema = _drop(tmp_path, "courses declared absent")
    validated = CliRunner().invoke(cli, ["validate", str(folder), "--json"])
    doc = json.loads(validated.stdout)
    assert doc["verdict"] == "held" and validated.exit_code == 0
    assert doc["left_out"] == {"classes": {"courseSourcedId -> courses: does not exist": 1},
                               "enrollments": {"classSourcedId -> classes: left out": 3}}
    _integrate(tmp_path, folder, schema)
    synced = CliRunner().invoke(cli, ["sync", "lakeside"])
    assert synced.exit_code == 3, synced.output
    assert "held: classes: 1 of 1 rows read left out by references (100.0%), more than 10%" in synced.output
    assert "HELD: rows of this drop point at records that do not exist" in synced.output
    assert "rows enrollments: 3 read, 0 delivered; left out classSourcedId -> classes: left out 3" in synced.output


def test_a_status_outside_the_allowed_values_fails_both_with_its_cause(tmp_path, passport_home, sqlite_store):
    """Defect 4: a warning in validate and a canonical_schema failure in sync before; now both fail on
    the status, and the sync prints the cause, not dangling-reference lines."""
    folder, schema = _drop(tmp_path, "a status outside the allowed values")
    validated = CliRunner().invoke(cli, ["validate", str(folder)])
    assert validated.exit_code == 1 and "[value.enum] status must be active or tobedeleted" in validated.output
    _integrate(tmp_path, folder, schema)
    synced = CliRunner().invoke(cli, ["sync", "lakeside"])
    assert synced.exit_code == 1
    assert "check drop_is_valid failed: 1 finding(s)" in synced.output
    assert "academicSessions.csv:3 status [value.enum]" in synced.output
    # The canonical check is a step of its own, never run on a failed drop (Dagster says so in one line).
    assert "reference" not in synced.output and "check canonical_schema" not in synced.output


def test_sync_json_of_a_failed_drop_carries_its_first_findings_masked(tmp_path, passport_home, sqlite_store):
    """Defect 6: --json named the failed check only."""
    folder = write_package(tmp_path / "drop", cells={("demographics", 0, "birthDate"): "2010-13-45",
                                                     ("orgs", 1, "type"): "county"})
    _integrate(tmp_path, folder, "oneroster-1.1")
    result = CliRunner().invoke(cli, ["sync", "lakeside", "--json"])
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    failure = summary["failures"]["drop_is_valid"]
    assert failure["total"] == 2
    assert failure["totals_by_rule"] == {"sis: value.date": 1, "sis: value.enum": 1}
    found = {(f["file"], f["line"], f["column"], f["rule"]): f for f in failure["findings"]}
    birth = found[("demographics.csv", 2, "birthDate", "value.date")]
    assert birth["message"] and birth["value"] == "<10 characters withheld>"
    assert "2010-13-45" not in result.stdout
    assert found[("orgs.csv", 3, "type", "value.enum")]["value"] == "county"


def test_an_entity_emptied_by_references_is_held_whatever_the_share(tmp_path, passport_home, sqlite_store):
    """A second drop whose only course changed id leaves every class out: held even where the
    left-out share is turned off, because the classes on record would be emptied."""
    folder, schema = _drop(tmp_path, "clean")
    _integrate(tmp_path, folder, schema, change_control={"sync_hold": {"*": {"left_out": "100%"}}})
    with dg.instance_for_test() as instance:
        first = run_sync(instance, "lakeside")
        assert first["status"] == "successfully in production", first["errors"]
        rows = valid_rows()
        rows["courses"][0]["sourcedId"] = "crs-9"
        write_package(tmp_path / "drop", rows=rows)
        second = run_sync(instance, "lakeside")
    assert second["status"] == "held"
    assert second["hold_reasons"] == [
        "classes: every row read (1) is left out by references, and 1 are on record: the sync would empty it",
        "enrollments: every row read (3) is left out by references, and 3 are on record: the sync would empty it"]


def test_rows_the_integration_rules_leave_out_are_counted_by_rule(tmp_path, passport_home, sqlite_store):
    folder = write_package(tmp_path / "drop", cells={("users", 2, "enabledUser"): "false"})  # stu-2
    write_integration(tmp_path / "integrations", "lakeside", [{
        "name": "sis", "type": "csv", "path": str(folder), "schema": "oneroster-1.1", "mode": "full",
        "filters": {"student": [{"template": "active_only"}]}}])
    with dg.instance_for_test() as instance:
        summary = run_sync(instance, "lakeside")
    assert summary["status"] == "successfully in production", summary["errors"]
    accounting = summary["accounting"]
    assert unaccounted(accounting) == {}
    assert accounting["users"] == {"read": 4, "delivered": 3, "tobedeleted": 0,
                                   "filtered": {"student: active_only": 1}, "left_out": {}}
    assert accounting["enrollments"]["left_out"] == {"rules: depends on a row the rules left out": 1}
    assert summary["filtered_by_rule"] == {"users": {"student: active_only": 1}}
    assert summary["changes"]["users"]["added"] == 3
