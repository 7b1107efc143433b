"""Two syncs of one district at once, in real processes, on SQLite and PostgreSQL: they never cross.

Each run keeps its own working files and hand-offs, the commit checks it commits the change set
computed from the drop it archived, and a second `passport sync` of a district waits for the first.
Whatever the timing, every committed version's export holds exactly the people of its own archived
drop, and syncing a drop again converges.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections import Counter
from pathlib import Path

import dagster as dg
import pytest

from passport_pipelines.notifications.run_failure import error_of_failed_run
from passport_pipelines.store.golden_store import GoldenStore
from passport_pipelines.store.version_status import COMMITTED
from tests.conftest import write_integration
from tests.district_files import edit_rows, make_district

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
YEAR = "2025-2026"
TIMEOUT = 240

# A "UI" run: the roster_sync job executed by another process, which takes no lock of `passport sync`.
UI_RUN = """
import dagster as dg
from passport_pipelines.cli.sync_launch import execute_here, prepare_instance
with dg.DagsterInstance.get() as instance:
    prepare_instance(instance, "lakeside", "2025-2026")
print(execute_here("roster_sync", "lakeside", "2025-2026", {"passport/committed_by": "ui-test"}, "WARNING"))
"""


def _people(rows) -> Counter:
    return Counter((r["givenName"], r["familyName"], r["role"]) for r in rows
                   if r.get("status", "") in ("", "active"))


def _csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def _variant(base: Path, folder: Path, *, rename: str, drop_first: int) -> Path:
    """The base drop with ``drop_first`` students gone and every 10th student renamed."""
    shutil.copytree(base, folder)

    def edit(rows):
        students = [r for r in rows if r["role"] == "student"]
        gone = {r["sourcedId"] for r in students[:drop_first]}
        for i, r in enumerate(students):
            if i % 10 == 0:
                r["givenName"] = f"{rename}{i}"
        return [r for r in rows if r["sourcedId"] not in gone]
    edit_rows(folder / "users.csv", edit)
    return folder


def _env(integrations: Path) -> dict:
    env = {**os.environ, "PASSPORT_INTEGRATIONS_DIR": str(integrations), "PASSPORT_SYNC_IN_PROCESS": "1"}
    return env


def _integrations(tmp_path: Path, name: str, drop: Path) -> Path:
    folder = tmp_path / f"integrations-{name}"
    folder.mkdir()
    write_integration(folder, "lakeside", [
        {"name": "sis", "type": "csv", "path": str(drop), "schema": "oneroster-1.1", "mode": "full"}],
        schedule={"school_year_start": None})
    return folder


def _sync(env: dict) -> subprocess.Popen:
    return subprocess.Popen([str(BIN / "passport"), "sync", "lakeside"], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _ui_run(env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", UI_RUN], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _finish(proc: subprocess.Popen) -> tuple[int, str]:
    out, err = proc.communicate(timeout=TIMEOUT)
    return proc.returncode, out + err


def _check_every_version_is_its_own_drop(store: GoldenStore) -> list:
    """Each committed version's export holds the people of the drop that version archived."""
    versions = [v for v in store.versions("lakeside", YEAR) if v.status in COMMITTED]
    for v in versions:
        archived = Path(v.archive_path) / "sis" / "users.csv"
        delivered = [d for d in store.deliveries(v.id) if d["status"] in ("delivered", "unchanged")]
        assert delivered, f"version {v.number} was not delivered"
        with zipfile.ZipFile(delivered[-1]["path"]) as zf:
            exported = _csv_rows(zf.read("users.csv").decode("utf-8"))
        assert _people(exported) == _people(_csv_rows(archived.read_text(encoding="utf-8"))), \
            f"version {v.number}'s export is not its archived drop"
    return versions


def _wait_started(proc: subprocess.Popen, seconds: float) -> None:
    time.sleep(seconds)
    assert proc.poll() is None, proc.communicate()


@pytest.mark.parametrize("store_url", ["sqlite", "postgres"], indirect=True)
def test_two_passport_syncs_at_once_run_one_after_the_other_each_committing_its_own_drop(tmp_path, passport_home,
                                                                                       store_url):
    base = make_district(tmp_path / "drop", students=300)
    first = subprocess.run([str(BIN / "passport"), "sync", "lakeside"], cwd=REPO, text=True, capture_output=True,
                           env=_env(_integrations(tmp_path, "base", base)))
    assert first.returncode == 0, first.stdout + first.stderr
    drop_a = _variant(base, tmp_path / "drop-a", rename="Alpha", drop_first=20)
    drop_b = _variant(base, tmp_path / "drop-b", rename="Beta", drop_first=5)
    env_a, env_b = _env(_integrations(tmp_path, "a", drop_a)), _env(_integrations(tmp_path, "b", drop_b))

    sync_a = _sync(env_a)
    _wait_started(sync_a, 2.0)
    sync_b = _sync(env_b)
    (code_a, out_a), (code_b, out_b) = _finish(sync_a), _finish(sync_b)
    assert (code_a, code_b) == (0, 0), out_a + out_b
    # The second waited for the first instead of failing at its commit.
    assert "waiting for it" in out_b
    store = GoldenStore(store_url)
    versions = _check_every_version_is_its_own_drop(store)
    assert [v.number for v in versions] == [1, 2, 3]

    # Drop A again: back to A, then nothing more to do.
    again = subprocess.run([str(BIN / "passport"), "sync", "lakeside"], cwd=REPO, env=env_a, text=True,
                           capture_output=True)
    assert again.returncode == 0, again.stdout + again.stderr
    last = store.latest_version("lakeside", YEAR)
    assert last.number == 4 and last.changes["users"]["updated"] > 0
    assert subprocess.run([str(BIN / "passport"), "sync", "lakeside"], cwd=REPO, env=env_a).returncode == 0
    assert not any(sum(c.values()) for c in store.latest_version("lakeside", YEAR).changes.values())
    _check_every_version_is_its_own_drop(store)


@pytest.mark.parametrize("store_url", ["sqlite", "postgres"], indirect=True)
def test_a_passport_sync_and_a_ui_run_at_once_never_commit_each_others_changes(tmp_path, passport_home, store_url):
    base = make_district(tmp_path / "drop", students=300)
    first = subprocess.run([str(BIN / "passport"), "sync", "lakeside"], cwd=REPO, text=True, capture_output=True,
                           env=_env(_integrations(tmp_path, "base", base)))
    assert first.returncode == 0, first.stdout + first.stderr
    drop_a = _variant(base, tmp_path / "drop-a", rename="Alpha", drop_first=20)
    drop_b = _variant(base, tmp_path / "drop-b", rename="Beta", drop_first=5)
    env_a, env_b = _env(_integrations(tmp_path, "a", drop_a)), _env(_integrations(tmp_path, "b", drop_b))

    cli = _sync(env_a)
    _wait_started(cli, 2.0)
    ui = _ui_run(env_b)
    (_, out_cli), (code_ui, out_ui) = _finish(cli), _finish(ui)
    assert code_ui == 0, out_ui
    store = GoldenStore(store_url)
    versions = _check_every_version_is_its_own_drop(store)
    # At least one committed; the other either committed after it or was refused, the store untouched by it.
    assert len(versions) in (2, 3)
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(dg.RunsFilter(tags={"passport/district": "lakeside"}))[:2]
        failed = [r for r in runs if r.status == dg.DagsterRunStatus.FAILURE]
        assert len(failed) == 3 - len(versions), (out_cli, out_ui)
        for run in failed:
            error = error_of_failed_run(instance, run.run_id).message
            assert "another sync of lakeside is running" in error or "was committed while this sync ran" in error, \
                error

    # Whatever happened, syncing drop A again converges on it.
    for _ in range(2):
        done = subprocess.run([str(BIN / "passport"), "sync", "lakeside"], cwd=REPO, env=env_a, text=True,
                              capture_output=True)
        assert done.returncode == 0, done.stdout + done.stderr
    assert not any(sum(c.values()) for c in store.latest_version("lakeside", YEAR).changes.values())
    last = _check_every_version_is_its_own_drop(store)[-1]
    assert (Path(last.archive_path) / "sis" / "users.csv").read_bytes() == (drop_a / "users.csv").read_bytes()
