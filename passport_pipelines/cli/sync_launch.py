"""How `passport sync` (and `passport approve`) run a sync job: through the instance's run queue when a
Dagster daemon serves it, else in this process under the district's lock.

Through the queue, the run is an ordinary run of the code location: the one-sync-per-district limit
orders it behind any other sync of the district (from the UI, a schedule, a sensor), and it runs
where the daemon's run launcher runs it. `passport sync` waits for it and prints its outcome.
In this process, the district's lock (``jobs/district_lock.py``) makes a second `passport sync` of
the district wait. Either way the run is recorded in the instance, with the same tags, and its
notification is sent once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Callable

import dagster as dg

from passport_pipelines import settings
from passport_pipelines.jobs.partitions import register_sync_partition, sync_partition_key, sync_partitions
from passport_pipelines.jobs.run_liveness import fail_abandoned_runs

QUEUE_DAEMON = "QUEUED_RUN_COORDINATOR"
POLL_SECONDS = 1.0


def daemon_serves(instance: dg.DagsterInstance) -> bool:
    """Whether runs submitted to this instance are queued and a live daemon takes them off the queue.
    ``PASSPORT_SYNC_IN_PROCESS=1`` always runs in this process (e.g. on a machine that only has the CLI)."""
    if os.environ.get("PASSPORT_SYNC_IN_PROCESS", "").lower() in ("1", "true", "yes"):
        return False
    if not isinstance(instance.run_coordinator, dg.QueuedRunCoordinator):
        return False
    status = instance.get_daemon_statuses([QUEUE_DAEMON]).get(QUEUE_DAEMON)
    return bool(status and status.healthy)


def _code_location_args() -> list[str]:
    """How `dagster job launch` finds the code location: the workspace the daemon serves (so the run's
    location name is one the daemon knows)."""
    workspace = os.environ.get("PASSPORT_DAGSTER_WORKSPACE") or str(settings.REPO_ROOT / "workspace.yaml")
    if Path(workspace).is_file():
        return ["-w", workspace]
    return ["-m", "passport_pipelines.definitions"]


def queue_run(instance: dg.DagsterInstance, job_name: str, district: str, school_year: str, tags: dict,
              echo: Callable[[str], None]) -> str:
    """Submit the run to the instance's queue and wait until it has ended; its id."""
    run_id = str(uuid.uuid4())
    all_tags = {**sync_partitions.get_tags_for_partition_key(sync_partition_key(district, school_year)), **tags}
    dagster = Path(sys.executable).with_name("dagster")
    command = [str(dagster), "job", "launch", *_code_location_args(), "-j", job_name, "--run-id", run_id,
               "--tags", json.dumps(all_tags)]
    done = subprocess.run(command, cwd=settings.REPO_ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the run could not be queued: {done.stderr.strip().splitlines()[-1:] or done.stdout}")
    echo(f"queued run {run_id}; the daemon runs it when no other sync of {district} is running")
    last = None
    while True:
        run = instance.get_run_by_id(run_id)
        if run is not None and run.status != last:
            last = run.status
            if run.status == dg.DagsterRunStatus.STARTED:
                echo(f"run {run_id} started")
        if run is not None and run.is_finished:
            return run_id
        time.sleep(POLL_SECONDS)


def execute_here(job_name: str, district: str, school_year: str, tags: dict, log_level: str) -> str:
    """Execute the job in this process (the caller holds the district's lock); the run's id."""
    from passport_pipelines.definitions import defs

    result = defs.resolve_job_def(job_name).execute_in_process(
        instance=dg.DagsterInstance.get(),
        partition_key=sync_partition_key(district, school_year),
        tags=tags,
        # The run's full event log is in the instance (and the UI); the terminal gets the summary.
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        raise_on_error=False,
    )
    return result.run_id


def prepare_instance(instance: dg.DagsterInstance, district: str, school_year: str) -> None:
    """The partition exists, and runs of the district abandoned by a killed process no longer block it."""
    register_sync_partition(instance, district, school_year)
    fail_abandoned_runs(instance, district)
