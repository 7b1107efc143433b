"""Approvers: only the people named for a district approve or reject its held syncs and resolve its
duplicates, from the CLI and from the Launchpad jobs; everyone else is refused with the reason and
nothing is decided. The list comes from the integration file, else the fleet's default."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from passport_pipelines.cli.main import cli
from passport_pipelines.config.approvers import NotAnApprover, approvers_of, require_approver
from passport_pipelines.config.loader import IntegrationError, load_district
from passport_pipelines.definitions import defs
from passport_pipelines.jobs.ops.sync_approval import APPROVE_SYNC, REJECT_SYNC
from passport_pipelines.store.duplicate_review import DuplicateReview
from passport_pipelines.store.golden_store import GoldenStore
from tests.conftest import write_integration
from tests.csv_drops import PEOPLE, SCHOOLS, write_basic_identity
from tests.district_files import make_district

YEAR = "2025-2026"
REGISTRAR = "registrar@lakeside.example"


def _cli(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == code, result.output
    return result.output


def _lakeside(tmp_path, sources, **extra):
    write_integration(tmp_path / "integrations", "lakeside", sources, **extra)
    return load_district("lakeside", tmp_path / "integrations")


def test_the_districts_list_wins_then_the_fleets_default_then_anyone(tmp_path, passport_home, monkeypatch):
    source = [{"name": "sis", "type": "csv", "path": str(tmp_path)}]
    monkeypatch.delenv("PASSPORT_APPROVERS", raising=False)
    monkeypatch.delenv("PASSPORT_APPROVERS_FILE", raising=False)
    anyone = _lakeside(tmp_path, source)
    assert approvers_of(anyone) is None
    require_approver(anyone, "whoever@example.org", "approve version 2")

    listed = tmp_path / "approvers.txt"
    listed.write_text("# the data office\nData.Lead@Lakeside.example   # lead\n\nit@lakeside.example\n")
    monkeypatch.setenv("PASSPORT_APPROVERS_FILE", str(listed))
    require_approver(anyone, " data.lead@lakeside.example ", "approve version 2")  # case and spaces aside
    with pytest.raises(NotAnApprover) as refused:
        require_approver(anyone, "whoever@example.org", "approve version 2")
    assert "whoever@example.org is not an approver of lakeside, so may not approve version 2" in str(refused.value)
    assert "Data.Lead@Lakeside.example, it@lakeside.example" in str(refused.value)
    assert "PASSPORT_APPROVERS_FILE" in str(refused.value) and "not a sign-in" in str(refused.value)

    monkeypatch.setenv("PASSPORT_APPROVERS", "ops@example.org, night@example.org")  # before the file
    assert approvers_of(anyone).names == ("ops@example.org", "night@example.org")

    own = _lakeside(tmp_path, source, change_control={"approvers": [REGISTRAR]})
    require_approver(own, REGISTRAR.upper(), "reject version 4")
    with pytest.raises(NotAnApprover, match=r"change_control\.approvers in .*lakeside\.yaml"):
        require_approver(own, "ops@example.org", "reject version 4")  # the fleet's default does not add to it

    for bad, why in (([REGISTRAR, REGISTRAR.upper()], "listed twice"), (["a@x.org\nb@x.org"], "one line")):
        with pytest.raises(IntegrationError, match=why):
            _lakeside(tmp_path, source, change_control={"approvers": bad})


@pytest.mark.slow
def test_only_approvers_decide_held_syncs_and_duplicates(tmp_path, passport_home, sqlite_store, monkeypatch):
    drop = make_district(tmp_path / "drop", students=12)
    write_integration(tmp_path / "integrations", "lakeside", [{"name": "sis", "type": "csv", "path": str(drop)}],
                      change_control={"approvers": [REGISTRAR]})
    store = GoldenStore(sqlite_store)
    _cli("sync", "lakeside", "--preview", code=3)
    [held] = store.versions("lakeside", YEAR)
    held_folder = Path(held.held_changes["held_folder"])
    assert held_folder.is_dir()

    # The CLI refuses anyone else, with the reason, and decides nothing.
    out = _cli("approve", "lakeside", "1", "--by", "intern@lakeside.example", code=1)
    assert "intern@lakeside.example is not an approver of lakeside, so may not approve version 1" in out
    assert REGISTRAR in out and "Traceback" not in out
    assert "may not reject version 1" in _cli("reject", "lakeside", "1", "--by", "intern@lakeside.example", code=1)
    assert store.version(held.id).status == "held" and store.version(held.id).decided_by is None

    with dg.instance_for_test() as instance:
        # The Launchpad jobs refuse the same way: the run fails with the message.
        for job, op in ((APPROVE_SYNC, "approve_held_sync"), (REJECT_SYNC, "reject_held_sync")):
            result = defs.resolve_job_def(job).execute_in_process(
                instance=instance, raise_on_error=False, run_config={"ops": {op: {"config": {
                    "district": "lakeside", "school_year": YEAR, "version": 1, "by": "intern@lakeside.example"}}}})
            assert not result.success
            failure = next(e for e in result.all_events if e.is_step_failure)
            assert "is not an approver of lakeside" in failure.step_failure_data.error.message
        assert store.version(held.id).status == "held"

        ok = defs.resolve_job_def(REJECT_SYNC).execute_in_process(instance=instance, run_config={"ops": {
            "reject_held_sync": {"config": {"district": "lakeside", "school_year": YEAR, "version": 1,
                                            "by": "Registrar@Lakeside.example"}}}})
        assert ok.success and store.version(held.id).status == "rejected"
    assert not held_folder.exists()  # the Launchpad's rejection discards the held change set, as the CLI's does


@pytest.mark.slow
def test_only_approvers_resolve_and_undo_duplicates(tmp_path, passport_home, sqlite_store, monkeypatch):
    from tests.sync_harness import run_sync

    people = [*PEOPLE, {"person_id": "stu-9", "role": "student", "given_name": "Ada", "family_name": "Okafor",
                        "email": "other@example.org", "school_id": "sch-1", "grade": "03"}]
    sis = write_basic_identity(tmp_path / "sis", people=people, schools=SCHOOLS)
    write_integration(tmp_path / "integrations", "lakeside", [
        {"name": "sis", "type": "csv", "path": str(sis), "schema": "passport-basic-identity"}],
        reconciliation={"domains": {"users": [{"name": "name_only", "attributes": ["given_name", "family_name"],
                                               "resolution": "manual"}]}})
    monkeypatch.setenv("PASSPORT_APPROVERS", REGISTRAR)  # the fleet's default: the file names none
    review = DuplicateReview(GoldenStore(sqlite_store))
    with dg.instance_for_test() as instance:
        assert run_sync(instance, "lakeside")["status"] == "successfully in production"
        [case] = review.cases("lakeside")
        primary = f"{case['left_source']}:{case['left_sourced_id']}"

        out = _cli("duplicates", "resolve", str(case["id"]), "--primary", primary, "--secondary", "create-new",
                   "--by", "intern@lakeside.example", code=1)
        assert f"may not resolve duplicate case {case['id']}" in out and "$PASSPORT_APPROVERS" in out
        refused = defs.resolve_job_def("resolve_duplicate").execute_in_process(
            instance=instance, raise_on_error=False, run_config={"ops": {"resolve_case": {"config": {
                "case": case["id"], "primary": primary, "secondary": "create-new", "by": "intern@lakeside.example"}}}})
        assert not refused.success and review.cases("lakeside") != []

        out = _cli("duplicates", "resolve", str(case["id"]), "--primary", primary, "--secondary", "create-new",
                   "--by", REGISTRAR)
        decision = int(out.split("decision ")[1].split()[0])
        assert "may not undo duplicate decision" in _cli("duplicates", "undo", str(decision), "--by", "intern@x.org",
                                                        code=1)
        undone = defs.resolve_job_def("undo_duplicate_decision").execute_in_process(
            instance=instance, raise_on_error=False,
            run_config={"ops": {"undo_decision": {"config": {"decision": decision, "by": "intern@x.org"}}}})
        assert not undone.success
        assert [d["action"] for d in review.decisions("lakeside")] == ["create-new"]
        _cli("duplicates", "undo", str(decision), "--by", REGISTRAR)
        assert [d["action"] for d in review.decisions("lakeside")] == ["create-new", "undo"]
