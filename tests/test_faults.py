"""Faults a district must survive: a process killed in the middle of a commit, and two syncs of one
district racing to commit. (A bulk drop with most of its users missing is held: test_sync_holds.py.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from passport_pipelines.cli.main import cli
from passport_pipelines.model.change_set import ChangeSet, EntityChanges
from passport_pipelines.store.golden_store import ConcurrentCommitError, GoldenStore
from tests.conftest import write_integration
from tests.district_files import edit_rows, make_district
from tests.test_golden_store import _info, _no_deletes, _users

YEAR = "2025-2026"
ROOT = Path(__file__).parents[1]


def _cli(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _snapshot(store: GoldenStore) -> tuple:
    users = sorted((u["sourced_id"], u["given_name"], u["golden_id"])
                   for u in store.current_records("lakeside", YEAR, "users").to_pylist())
    return ([(v.number, v.status) for v in store.versions("lakeside")], store.count_records("lakeside", YEAR), users)


@pytest.mark.slow
def test_sigkill_during_a_commit_leaves_the_store_as_before_and_the_next_sync_converges(tmp_path, passport_home,
                                                                                        store_url):
    drop = make_district(tmp_path / "drop", students=40)
    write_integration(tmp_path / "integrations", "lakeside", [{"name": "sis", "type": "csv", "path": str(drop)}])
    _cli("sync", "lakeside")
    store = GoldenStore(store_url)
    before = _snapshot(store)

    def rename(rows):
        for row in rows:
            if row["role"] == "student":
                row["givenName"] = row["givenName"] + "x"
        return rows
    edit_rows(drop / "users.csv", rename)

    marker = tmp_path / "inside_commit"
    child = subprocess.Popen([sys.executable, "-m", "tests.fakes.killed_commit", str(marker), "sync", "lakeside"],
                             cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 180
        while not marker.exists():
            assert child.poll() is None, child.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the sync never reached its commit"
            time.sleep(0.1)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL

    # Rows were written inside the killed transaction; none of them is visible, nor a version.
    assert _snapshot(store) == before
    out = _cli("sync", "lakeside")
    assert "successfully in production (version 2)" in out
    versions = store.versions("lakeside", YEAR)
    assert versions[-1].changes["users"]["updated"] == 40
    assert all(u["given_name"].endswith("x") for u in store.current_records("lakeside", YEAR, "users").to_pylist()
               if u["role"] == "student")


def test_two_commits_of_one_district_never_interleave(store_url):
    store = GoldenStore(store_url)
    store.commit(ChangeSet({"users": EntityChanges(_users(["u0"]), _no_deletes())}), _info(None))
    base = store.latest_version("lakeside", YEAR).id
    # Two syncs computed against the same version race to commit 20,000 users each.
    batches = {name: [f"{name}-{i}" for i in range(20_000)] for name in ("left", "right")}
    start = threading.Barrier(2)
    outcomes: dict[str, object] = {}
    # Each sync has its own store and connections (migrations run here: Alembic is not thread-safe).
    stores = {name: GoldenStore(store_url) for name in batches}

    def commit(name: str) -> None:
        changes = ChangeSet({"users": EntityChanges(_users(batches[name]), _no_deletes())})
        start.wait()
        try:
            outcomes[name] = stores[name].commit(changes, _info(base)).number
        except ConcurrentCommitError as exc:
            outcomes[name] = exc

    threads = [threading.Thread(target=commit, args=(n,)) for n in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    winners = [n for n, o in outcomes.items() if o == 2]
    losers = [n for n, o in outcomes.items() if isinstance(o, ConcurrentCommitError)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert "run the sync again" in str(outcomes[losers[0]])
    # The store holds the winner's version and nothing of the loser's.
    ids = {u["sourced_id"] for u in store.current_records("lakeside", YEAR, "users").to_pylist()}
    assert ids == {"u0", *batches[winners[0]]}
    assert [v.number for v in store.versions("lakeside", YEAR)] == [1, 2]
    assert {c["sourced_id"].split("-")[0] for c in store.record_changes(store.latest_version("lakeside", YEAR).id)
            } <= {winners[0]}
