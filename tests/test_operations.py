"""Operations from the CLI: pausing a district, importing without deletions, and the integrations list."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from click.testing import CliRunner

from passport_pipelines.cli.main import cli
from passport_pipelines.store.golden_store import GoldenStore
from tests.conftest import write_integration
from tests.district_files import edit_rows, make_district, read_rows

pytestmark = pytest.mark.slow
YEAR = "2025-2026"


def _cli(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_a_paused_district_syncs_only_when_forced(tmp_path, passport_home):
    drop = make_district(tmp_path / "drop", students=10)
    today = date.today()
    write_integration(tmp_path / "integrations", "lakeside", [{"name": "sis", "type": "csv", "path": str(drop)}],
                      pause={"from": str(today - timedelta(days=1)), "until": str(today + timedelta(days=30))},
                      schedule={"every": "daily", "at": "06:00"})
    out = _cli("sync", "lakeside", code=1)
    assert f"district lakeside is paused (pause from {today - timedelta(days=1)}" in out
    assert "passport sync --force" in out
    assert "successfully in production (version 1)" in _cli("sync", "lakeside", "--force")
    [row] = json.loads(_cli("integrations", "list", "--json"))["integrations"]
    assert row["state"] == f"paused until {today + timedelta(days=30)}" and row["next_run"] is None
    assert row["last_run"]["version"] == 1 and row["last_run"]["status"] == "successfully in production"


def test_import_without_deletions_keeps_what_the_drop_left_out_until_a_full_sync(tmp_path, passport_home):
    drop = make_district(tmp_path / "drop", students=40)
    write_integration(tmp_path / "integrations", "lakeside", [{"name": "sis", "type": "csv", "path": str(drop)}],
                      schedule={"every": "daily", "at": "06:00", "timezone": "America/Chicago"})
    _cli("sync", "lakeside")
    store = GoldenStore(f"sqlite:///{passport_home / 'passport.db'}")
    before = store.count_records("lakeside", YEAR)
    _, users = read_rows(drop / "users.csv")
    gone = {u["sourcedId"] for u in users if u["role"] == "student"}
    gone = set(sorted(gone)[:2])
    edit_rows(drop / "users.csv", lambda rows: [r for r in rows if r["sourcedId"] not in gone])

    out = _cli("sync", "lakeside", "--no-deletions")
    assert "successfully in production (version 2)" in out
    assert store.count_records("lakeside", YEAR)["users"] == before["users"]
    assert "full, no deletions" in _cli("history", "lakeside")

    # The same drop again, now with deletions: not taken for "unchanged", the two students go.
    assert "successfully in production (version 3)" in _cli("sync", "lakeside")
    assert store.versions("lakeside", YEAR)[-1].changes["users"]["deleted"] == 2
    assert store.count_records("lakeside", YEAR)["users"] == before["users"] - 2

    listing = _cli("integrations", "list")
    assert "lakeside" in listing and "import" in listing and "sis (csv)" in listing
    assert "v3 successfully in production" in listing
    [row] = json.loads(_cli("integrations", "list", "--json"))["integrations"]
    assert row["state"] == "active" and row["next_run"].endswith(("-05:00", "-06:00"))
    assert row["targets"] == ["oneroster_export (oneroster-1.1-csv)"]


def test_a_paused_or_held_sync_says_so_once_without_a_traceback(tmp_path, passport_home):
    drop = make_district(tmp_path / "drop", students=10)
    write_integration(tmp_path / "integrations", "lakeside", [{"name": "sis", "type": "csv", "path": str(drop)}],
                      state="paused")
    paused = CliRunner().invoke(cli, ["sync", "lakeside"])
    assert paused.exit_code == 1
    assert paused.stdout == ""
    assert paused.stderr.splitlines() == [
        "error: district lakeside is paused (state: paused): nothing was synced; sync it anyway with passport sync "
        "--force (or the tag passport/force=true)"]

    held = CliRunner().invoke(cli, ["sync", "lakeside", "--force", "--preview"])
    assert held.exit_code == 3, held.output
    assert "Traceback" not in held.output and "dagster._core" not in held.output
    lines = held.stdout.splitlines()
    assert lines[0] == "lakeside 2025-2026: held (version 1)"
    assert [line.strip() for line in lines if "held:" in line] == ["held: preview requested for this sync"]
    assert sum("passport approve lakeside 1" in line for line in lines) == 1
    assert "error" not in held.stderr.lower()
