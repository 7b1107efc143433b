"""The passport command: integrations, sync, history, with exit codes and JSON output."""

from __future__ import annotations

import json
import zipfile

import yaml
from click.testing import CliRunner

from passport_pipelines.cli.main import cli
from tests.district_files import make_district


def _run(*args):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout


def test_every_command_has_help():
    for args in (["--help"], ["integrations", "new", "--help"], ["integrations", "list", "--help"],
                 ["sync", "--help"], ["validate", "--help"], ["history", "--help"]):
        code, out = _run(*args)
        assert code == 0 and "Usage:" in out


def test_new_integration_then_sync_then_history(tmp_path, passport_home):
    drop = make_district(tmp_path / "drop", students=30, reference_errors=1)
    code, out = _run("integrations", "new", "maple-grove", "--source", "csv", "--set", f"path={drop}",
                     "--school-year", "2025-2026")
    assert code == 0, out
    doc = yaml.safe_load((tmp_path / "integrations" / "maple-grove.yaml").read_text())
    assert doc["sources"][0] == {"name": "sis_export", "type": "csv", "path": str(drop),
                                 "schema": "oneroster-1.1", "mode": "full"}
    assert doc["destinations"][0]["folder"].startswith(str(passport_home))

    code, out = _run("integrations", "list", "--json")
    assert code == 0 and json.loads(out)["integrations"][0]["district"] == "maple-grove"

    code, out = _run("sync", "maple-grove", "--json")
    assert code == 0, out
    summary = json.loads(out)
    assert {"district", "school_year", "version", "status", "changes", "filtered", "deliveries"} <= set(summary)
    assert summary["version"] == 1 and summary["status"] == "successfully in production"
    assert set(summary["changes"]["users"]) == {"added", "updated", "deleted"}
    assert sum(summary["filtered"].values()) >= 1
    assert zipfile.is_zipfile(summary["deliveries"][0])

    code, out = _run("history", "maple-grove", "--json")
    versions = json.loads(out)["versions"]
    assert code == 0 and [v["version"] for v in versions] == [1]
    assert versions[0]["committed_by"].startswith("cli:")


def test_sync_of_a_failing_drop_exits_non_zero_with_the_findings(tmp_path, passport_home):
    drop = make_district(tmp_path / "drop", students=20)
    (drop / "manifest.csv").unlink()
    _run("integrations", "new", "maple-grove", "--source", "csv", "--set", f"path={drop}", "--school-year", "2025-2026")
    result = CliRunner().invoke(cli, ["sync", "maple-grove"])
    assert result.exit_code == 1
    assert "failed validation" in result.stdout
    assert "manifest.missing" in result.stderr


def test_a_relative_drop_path_is_taken_from_where_the_command_runs(tmp_path, passport_home, monkeypatch):
    make_district(tmp_path / "drops" / "maple", students=10)
    monkeypatch.chdir(tmp_path)
    code, out = _run("integrations", "new", "maple-grove", "--source", "csv", "--set", "path=drops/maple")
    assert code == 0, out
    doc = yaml.safe_load((tmp_path / "integrations" / "maple-grove.yaml").read_text())
    assert doc["sources"][0]["path"] == str(tmp_path / "drops" / "maple")


def test_unknown_district_and_bad_options_fail_clearly(passport_home):
    code, out = _run("sync", "nowhere")
    assert code == 1
    code, out = _run("integrations", "new", "Bad_Name", "--source", "csv", "--set", "path=/x")
    assert code == 1
    code, out = _run("integrations", "new", "ok-name", "--source", "csv", "--set", "colour=blue")
    assert code == 1


def test_sync_by_rule_counts_expired_destinations_and_a_zip_download(tmp_path, passport_home):
    from tests.conftest import write_integration
    from tests.district_files import edit_rows

    drop = make_district(tmp_path / "drop", students=20)

    def one_disabled_one_without_email(rows):
        students = [r for r in rows if r["role"] == "student"]
        students[0]["enabledUser"] = "false"
        students[1]["email"] = ""
        return rows

    edit_rows(drop / "users.csv", one_disabled_one_without_email)
    write_integration(tmp_path / "integrations", "maple-grove", [{
        "name": "sis", "type": "csv", "path": str(drop),
        "filters": {"student": [{"template": "active_only"}]},
        "requirements": {"student": {"email": "report_if_missing"}}}],
        destinations=[{"name": "oneroster_export", "type": "oneroster-1.1-csv"},
                      {"name": "old_lms", "type": "oneroster-1.2-csv", "until": "2020-06-30"}])

    result = CliRunner().invoke(cli, ["sync", "maple-grove", "--by", "registrar@maple.example"])
    assert result.exit_code == 0, result.output
    assert "rules sis: filtered student: active_only 1; missing student.email (report_if_missing) 1" in result.stdout
    code, out = _run("sync", "maple-grove", "--json", "--by", "registrar@maple.example")
    summary = json.loads(out)
    assert summary["committed_by"] == "registrar@maple.example"
    assert summary["rules"] == {"sis": {"filtered": {"student: active_only": 1},
                                        "missing": {"student.email (report_if_missing)": 1}}}
    bad = CliRunner().invoke(cli, ["sync", "maple-grove", "--by", "two\nlines"])
    assert bad.exit_code == 2 and "one line" in bad.output

    code, history = _run("history", "maple-grove")
    assert code == 0 and history.count("registrar@maple.example") == 2
    assert "rules sis: filtered student: active_only 1; missing student.email (report_if_missing) 1" in history
    assert "-> old_lms (oneroster-1.2-csv) expired" in history and "nothing is delivered after 2020-06-30" in history
    versions = json.loads(_run("history", "maple-grove", "--json")[1])["versions"]
    assert versions[0]["committed_by"] == "registrar@maple.example"
    assert versions[0]["sources"]["sis"]["rules"]["filtered"] == {"student: active_only": 1}
    assert [(d["destination"], d["status"]) for d in versions[0]["deliveries"]] == [
        ("old_lms", "expired"), ("oneroster_export", "delivered")]

    target = tmp_path / "v1.zip"
    code, out = _run("download", "maple-grove", "1", "--zip", str(target))
    assert code == 0 and str(target) in out
    with zipfile.ZipFile(target) as zf:
        names = set(zf.namelist())
        assert "sis/users.csv" in names and "sis/validation_report.json" in names
        assert zf.read("sis/users.csv") == (drop / "users.csv").read_bytes()
    assert _run("download", "maple-grove", "1", "--zip", str(target))[0] == 1  # never overwritten
    assert _run("download", "maple-grove", "1")[0] == 1  # --out or --zip
