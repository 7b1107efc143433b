"""A real `dagster-daemon` on the repository's workspace, for tests of queued runs, sensors and backfills."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import dagster as dg
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.skip(f"{name} is not installed beside {sys.executable}")
    return str(path)


def fast_queue(dagster_home: Path) -> None:
    """The instance as `passport ui` sets it up, with the queue looked at every second (not five)."""
    from passport_pipelines.cli.environment import prepare_dagster_home

    prepare_dagster_home()
    path = dagster_home / "dagster.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["run_coordinator"] = {"module": "dagster.core.run_coordinator", "class": "QueuedRunCoordinator",
                                 "config": {"dequeue_interval_seconds": 1}}
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


def tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


@contextmanager
def running_daemon(log: Path) -> Iterator[subprocess.Popen]:
    """`dagster-daemon run` on the shipped workspace; it, its code server and its run workers are stopped
    on the way out."""
    with log.open("w") as out:
        proc = subprocess.Popen([tool("dagster-daemon"), "run", "-w", "workspace.yaml"], cwd=REPO,
                                env=os.environ.copy(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)
            try:  # the code server and run workers live in the daemon's session: none may outlive it
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {timeout:.0f}s\n{tail(log) if log else ''}")
        time.sleep(0.25)


def daemon_ready(instance: dg.DagsterInstance) -> bool:
    status = instance.get_daemon_statuses(["QUEUED_RUN_COORDINATOR"]).get("QUEUED_RUN_COORDINATOR")
    return bool(status and status.healthy)
