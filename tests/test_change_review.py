"""Verifying changes record by record: `passport changes` on a held (previewed) version, before it is
approved, with old and new values (personal ones withheld unless asked for); the same records in the
held sync's check; and the committed version from the golden store afterwards."""

from __future__ import annotations

import json

import dagster as dg
import pytest
from click.testing import CliRunner

from passport_pipelines.cli.main import cli
from passport_pipelines.store.golden_store import GoldenStore
from tests.conftest import write_integration
from tests.district_files import edit_rows, make_district, read_rows, write_rows
from tests.sync_harness import approve_held, run_sync

pytestmark = pytest.mark.slow
YEAR = "2025-2026"


def _cli(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == code, result.output
    return result.output


def _edit(drop):
    """A renamed student, a retitled course, a student gone, a student new."""
    header, users = read_rows(drop / "users.csv")
    students = [u for u in users if u["role"] == "student"]
    renamed, gone = students[0], students[1]
    old_name = renamed["givenName"]
    renamed["givenName"] = "Zephyrine"
    new = {**students[2], "sourcedId": "stu-new-1", "givenName": "Quillon", "familyName": "Marsh",
           "username": "qmarsh", "email": "qmarsh@example.org", "identifier": "9999001"}
    users = [u for u in users if u is not gone] + [new]
    write_rows(drop / "users.csv", header, users)
    edit_rows(drop / "enrollments.csv", lambda rows: [r for r in rows if r["userSourcedId"] != gone["sourcedId"]])
    edit_rows(drop / "demographics.csv", lambda rows: [r for r in rows if r["sourcedId"] != gone["sourcedId"]])

    def retitle(rows):
        rows[0]["title"] = "Kindergarten Homeroom (Room 4)"
        return rows
    _, courses = read_rows(drop / "courses.csv")
    old_title, course = courses[0]["title"], courses[0]["sourcedId"]
    edit_rows(drop / "courses.csv", retitle)
    return renamed, old_name, gone, course, old_title


def test_a_held_version_lists_its_changes_record_by_record_then_the_committed_one(tmp_path, passport_home,
                                                                                   sqlite_store):
    drop = make_district(tmp_path / "drop", students=12)
    write_integration(tmp_path / "integrations", "lakeside", [{"name": "sis", "type": "csv", "path": str(drop)}])
    with dg.instance_for_test() as instance:
        assert run_sync(instance, "lakeside")["status"] == "successfully in production"
        renamed, old_name, gone, course, old_title = _edit(drop)
        held = CliRunner().invoke(cli, ["sync", "lakeside", "--preview"])
        assert held.exit_code == 3 and "review:  passport changes lakeside 2 --school-year 2025-2026" in held.output

        out = _cli("changes", "lakeside", "2")
        assert out.splitlines()[0].startswith("lakeside 2025-2026 version 2 (held): ")
        assert "users +1 ~1 -1" in out and "courses +0 ~1 -0" in out
        assert "from the held change set" in out
        assert f"~ sis:{renamed['sourcedId']} [" in out and "given_name: <withheld> -> <withheld>" in out
        assert f"~ sis:{course} [" in out and f"title: {old_title} -> Kindergarten Homeroom (Room 4)" in out
        assert "+ sis:stu-new-1 [" in out and "role=student" in out and "given_name=<withheld>" in out
        assert f"- sis:{gone['sourcedId']} [" in out and "(missing)" in out
        assert "  enrollments\n    - sis:" in out  # the gone student's enrollments, left out of the file too
        for personal in ("Zephyrine", old_name, "Quillon", "qmarsh", gone["familyName"]):
            assert personal not in out
        assert "personal values are withheld (--show-values to see them)" in out

        shown = _cli("changes", "lakeside", "2", "--show-values", "--entity", "users")
        assert f"given_name: {old_name} -> Zephyrine" in shown and "given_name=Quillon" in shown
        assert "courses" not in shown

        doc = json.loads(_cli("changes", "lakeside", "2", "--json", "--limit", "2"))
        assert doc["version"] == 2 and doc["status"] == "held" and doc["shown"] == 2 and doc["total"] > 2
        assert doc["totals"]["users"] == {"added": 1, "updated": 1, "deleted": 1}
        assert [r["entity"] for r in doc["records"]] == ["courses", "users"]  # in entity order, then added first
        assert doc["records"][1]["change"] == "added" and doc["records"][1]["sourced_id"] == "stu-new-1"
        limited = _cli("changes", "lakeside", "2", "--limit", "1")
        assert f"showing 1 of {doc['total']:,} changed records" in limited

        # The held sync's check carries the same, masked, with the command for the rest.
        check = instance.get_latest_materialization_event(dg.AssetKey("roster_changes"))
        assert check is not None
        evaluation = next(r.event_log_entry.dagster_event.event_specific_data for r in instance.get_records_for_run(
            run_id=check.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
            if r.event_log_entry.dagster_event.event_specific_data.check_name == "sync_hold")
        meta = evaluation.metadata
        rows = [r.data for r in meta["changes_review"].value.records]
        assert {"entity": "users", "change": "updated", "record": f"sis:{renamed['sourcedId']}"}.items() <= \
            next(r for r in rows if r["record"] == f"sis:{renamed['sourcedId']}").items()
        assert meta["changes_command"].value == "passport changes lakeside 2 --school-year 2025-2026"
        assert "Zephyrine" not in json.dumps([str(v.value) for v in meta.values()])

        summary = approve_held(instance, "lakeside", 2)
        assert summary["status"] == "successfully in production", summary["errors"]

    store = GoldenStore(sqlite_store)
    assert store.versions("lakeside", YEAR)[-1].status == "successfully in production"
    after = _cli("changes", "lakeside", "2", "--show-values")
    assert "from the golden store" in after
    assert "given_name: ? -> Zephyrine" in after and "given_name=Quillon" in after
    assert f"- sis:{gone['sourcedId']} [" in after and "(missing)" in after
    assert "note: old values are not kept once a version is committed" in after
    masked = _cli("changes", "lakeside", "2", "--entity", "users")
    assert "Zephyrine" not in masked and "given_name: ? -> <withheld>" in masked

    assert "no version 9" in _cli("changes", "lakeside", "9", code=1)


def test_a_rejected_version_has_nothing_to_list(tmp_path, passport_home, sqlite_store):
    drop = make_district(tmp_path / "drop", students=6)
    write_integration(tmp_path / "integrations", "lakeside", [{"name": "sis", "type": "csv", "path": str(drop)}])
    assert CliRunner().invoke(cli, ["sync", "lakeside", "--preview"]).exit_code == 3
    assert "users +" in _cli("changes", "lakeside", "1")
    _cli("reject", "lakeside", "1", "--by", "registrar@example.org")
    out = _cli("changes", "lakeside", "1", code=1)
    assert "version 1 was rejected" in out and "change set was discarded" in out
