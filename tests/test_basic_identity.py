"""Passport Basic Identity: a drop of schools.csv and people.csv, validated and synced into users."""

from __future__ import annotations

import dagster as dg
import pytest

from passport_pipelines.store.golden_store import GoldenStore
from passport_pipelines.validation.oneroster.validation import validate_package
from tests.conftest import write_integration
from tests.csv_drops import PEOPLE, SCHOOLS, write_basic_identity
from tests.oneroster_packages import manifest_properties, manifest_text
from tests.sync_harness import run_sync

SCHEMA = "passport-basic-identity"


def _findings(drop, rule):
    return [(f.file, f.line, f.column, f.value) for f in drop.report.samples() if f.rule == rule]


def test_a_clean_drop_validates(tmp_path):
    drop = validate_package(write_basic_identity(tmp_path / "drop"), SCHEMA)
    assert drop.ok, drop.report.render()
    assert drop.rows == {"schools": 2, "people": 4} and drop.modes == {"schools": "bulk", "people": "bulk"}


def test_errors_name_file_line_column_value_and_rule(tmp_path):
    people = [dict(p) for p in PEOPLE]
    people[1]["given_name"] = ""                 # line 3: required
    people[2]["role"] = "principal"              # line 4: not a Basic Identity role
    people[3]["person_id"] = "stu-1"             # line 5: duplicate of line 2
    people[0]["enabled"] = "yes"                 # line 2: not a boolean
    drop = validate_package(write_basic_identity(tmp_path / "drop", people=people), SCHEMA)
    assert not drop.ok
    assert _findings(drop, "value.required") == [("people.csv", 3, "given_name", None)]
    assert _findings(drop, "value.enum") == [("people.csv", 4, "role", "principal")]
    assert _findings(drop, "value.boolean") == [("people.csv", 2, "enabled", "yes")]
    assert _findings(drop, "key.duplicate") == [("people.csv", 2, "person_id", "stu-1"),
                                                ("people.csv", 5, "person_id", "stu-1")]


def test_two_students_with_one_student_number_fail_the_drop(tmp_path):
    people = [dict(p) for p in PEOPLE]
    people[1]["student_number"] = "1001"
    drop = validate_package(write_basic_identity(tmp_path / "drop", people=people), SCHEMA)
    assert not drop.ok
    found = _findings(drop, "key.duplicate")
    assert [(f, line, col) for f, line, col, _ in found] == [("people.csv", 2, "student_number"),
                                                             ("people.csv", 3, "student_number")]
    assert all("1001" not in (value or "") for *_, value in found)  # a student number is personal data


def test_dangling_school_references_are_filtered_and_reported(tmp_path):
    people = [dict(p) for p in PEOPLE] + [{**PEOPLE[0], "person_id": "stu-9", "student_number": "1009",
                                           "school_id": "sch-1,sch-404"}]
    drop = validate_package(write_basic_identity(tmp_path / "drop", people=people), SCHEMA)
    assert drop.ok
    assert _findings(drop, "reference.missing") == [("people.csv", 6, "school_id", "sch-1,sch-404")]
    assert drop.filtered == {"schools": 0, "people": 1}
    assert drop.con.execute("SELECT count(*) FROM people WHERE person_id = 'stu-9'").fetchone()[0] == 0


def test_a_drop_is_recognised_by_exactly_its_files(tmp_path):
    manifest = manifest_text(manifest_properties("1.1", {}))
    drop = validate_package(write_basic_identity(tmp_path / "a", raw={"manifest.csv": manifest}), SCHEMA)
    assert [f.rule for f in drop.report.samples()] == ["layout.manifest"]
    assert "oneroster-1.1" in drop.report.samples()[0].message

    folder = write_basic_identity(tmp_path / "b", raw={"users.csv": "sourcedId\n"})
    (folder / "schools.csv").unlink()
    drop = validate_package(folder, SCHEMA)
    assert sorted((f.rule, f.file) for f in drop.report.samples()) == [
        ("layout.file_missing", "schools.csv"), ("layout.unknown_file", "users.csv")]

    (folder / "users.csv").unlink()
    write_basic_identity(folder)
    (folder / "people.csv").write_text("person_id,given_name\nstu-1,Ada\n", encoding="utf-8")
    drop = validate_package(folder, SCHEMA)
    assert {(f.rule, f.column) for f in drop.report.samples()} == {
        ("header.missing_column", "role"), ("header.missing_column", "family_name"),
        ("header.missing_column", "school_id")}


@pytest.mark.slow
def test_sync_commits_schools_people_and_roles_and_deletes_who_left(tmp_path, passport_home, store_url):
    drop = write_basic_identity(tmp_path / "drop")
    # One of four people leaving is 25%, more than the default hold threshold of a real district.
    write_integration(tmp_path / "integrations", "lakeside", [
        {"name": "provisioning", "type": "csv", "path": str(drop), "schema": SCHEMA, "mode": "full"}],
        change_control={"sync_hold": {"*": {}}})
    with dg.instance_for_test() as instance:
        first = run_sync(instance, "lakeside")
        assert first["status"] == "successfully in production", first["errors"]
        assert {e: c["added"] for e, c in first["changes"].items() if c["added"]} == {
            "orgs": 2, "users": 4, "roles": 5}

        store = GoldenStore(store_url)
        users = {u["sourced_id"]: u for u in store.current_records("lakeside", "2025-2026", "users").to_pylist()}
        assert users["stu-1"]["role"] == "student" and users["stu-1"]["identifier"] == "1001"
        assert users["stu-1"]["grades"] == "03" and users["stu-1"]["state_id"] == "ST-1"
        assert users["stu-2"]["enabled_user"] is False and users["stu-1"]["enabled_user"] is True
        assert users["tch-1"]["org_sourced_ids"] == "sch-1,sch-2"
        roles = {(r["user_sourced_id"], r["org_sourced_id"]): r["role_type"]
                 for r in store.current_records("lakeside", "2025-2026", "roles").to_pylist()}
        assert roles[("tch-1", "sch-1")] == "primary" and roles[("tch-1", "sch-2")] == "secondary"
        orgs = store.current_records("lakeside", "2025-2026", "orgs").to_pylist()
        assert {(o["sourced_id"], o["type"], o["parent_sourced_id"]) for o in orgs} == {
            ("sch-1", "school", None), ("sch-2", "school", None)}

        write_basic_identity(drop, people=PEOPLE[:3], schools=SCHOOLS)  # adm-1 left the district
        second = run_sync(instance, "lakeside")
    assert second["status"] == "successfully in production", second["errors"]
    assert second["changes"]["users"] == {"added": 0, "updated": 0, "deleted": 1}
    assert second["changes"]["roles"]["deleted"] == 1  # the cascade of the deleted user
    assert all(c == {"added": 0, "updated": 0, "deleted": 0} for e, c in second["changes"].items()
               if e not in ("users", "roles"))
    assert "adm-1" not in store.current_records("lakeside", "2025-2026", "users").column("sourced_id").to_pylist()
