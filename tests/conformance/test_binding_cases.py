"""Each conformance case (``cases.py``) through ``passport validate --json``: the verdict, and the finding the
case must give (rule, severity, file, line, column), or no finding at all for a clean package."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from passport_pipelines.cli.main import cli
from tests.conformance.cases import CASES, Case


@pytest.fixture(autouse=True)
def _one_duckdb_thread(monkeypatch):
    monkeypatch.setenv("PASSPORT_DUCKDB_THREADS", "1")  # tiny packages


def validate(path, schema: str) -> dict:
    result = CliRunner().invoke(cli, ["validate", str(path), "--schema", schema, "--json"], catch_exceptions=False)
    report = json.loads(result.output)
    assert result.exit_code == (0 if report["ok"] else 1), result.output
    return report


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(tmp_path, case: Case):
    path, schema = case.build(tmp_path)
    report = validate(path, schema)
    findings = report["findings"]
    assert report["ok"] is case.ok, findings
    if case.expect is None:
        assert findings == [], findings
        return
    e = case.expect
    wanted = {"rule": e.rule, "severity": e.severity, "file": e.file, "line": case.line(tmp_path / "pkg"),
              "column": e.column}
    assert any({k: f[k] for k in wanted} == wanted for f in findings), (wanted, findings)
    # Nothing else than what the case is about (a warning case gives no error, and so on).
    assert {(f["severity"], f["rule"]) for f in findings} == {(e.severity, e.rule)}, findings
