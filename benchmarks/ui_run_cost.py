"""What a sync launched the way the Dagster UI, a schedule, a sensor or a backfill launches it costs,
against `passport sync` of the same partition, in one run of this script.

Both start from a fresh PASSPORT_HOME and make the first sync of the same district (the bundled demo
district by default, or a synthetic one with --students), so they do the same work:

- **passport sync**: the command, end to end, as a person runs it (no daemon: it executes the job
  in its own process), timed from the command's start to its exit;
- **queued run**: the run submitted to the instance's queue (`dagster job launch`, what the UI's
  Launchpad and the daemon's schedules, sensors and backfills do), taken off the queue by
  `dagster-daemon` and executed by the default run launcher in a new process. Timed two ways: the
  run itself (from the daemon launching it to its end: what the UI shows as the run's duration),
  and from its creation in the queue to its end (adding the queue's dequeue interval, set to 1 s here).

    .venv/bin/python benchmarks/ui_run_cost.py [--students N] [--repeat 2]

Prints the times, the ratios to `passport sync`, and the per-step split of the queued run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DISTRICT = "demo-unified"
YEAR = "2025-2026"


def _home(root: Path, drop: Path | None) -> dict:
    """A fresh PASSPORT_HOME with the district's integration file; the environment to run in."""
    home = root / f"home-{uuid.uuid4().hex[:6]}"
    integrations = home / "integrations"
    integrations.mkdir(parents=True)
    doc = yaml.safe_load((REPO / "integrations" / f"{DISTRICT}.yaml").read_text())
    doc["sources"][0]["path"] = str(drop or (REPO / "demo" / "oneroster-1.1"))
    doc["schedule"] = {"school_year_start": None}  # no scheduled runs while the daemon is up
    (integrations / f"{DISTRICT}.yaml").write_text(yaml.safe_dump(doc))
    env = {**os.environ, "PASSPORT_HOME": str(home), "PASSPORT_INTEGRATIONS_DIR": str(integrations),
           "DAGSTER_HOME": str(home / "dagster")}
    env.pop("PASSPORT_DATABASE_URL", None)
    return env


def _prepare(env: dict) -> None:
    """Create the instance as `passport ui` / `passport sync` do, with a 1 s dequeue interval."""
    code = ("from passport_pipelines.cli.environment import prepare_dagster_home; prepare_dagster_home()")
    subprocess.run([str(BIN / "python"), "-c", code], env=env, check=True)
    path = Path(env["DAGSTER_HOME"]) / "dagster.yaml"
    config = yaml.safe_load(path.read_text())
    config["run_coordinator"] = {"module": "dagster.core.run_coordinator", "class": "QueuedRunCoordinator",
                                 "config": {"dequeue_interval_seconds": 1}}
    path.write_text(yaml.safe_dump(config))


def time_cli(env: dict) -> float:
    started = time.perf_counter()
    done = subprocess.run([str(BIN / "passport"), "sync", DISTRICT, "--json"], env=env, cwd=REPO,
                          capture_output=True, text=True)
    took = time.perf_counter() - started
    status = json.loads(done.stdout)["status"] if done.stdout.strip().startswith("{") else done.stderr[-500:]
    if status != "successfully in production":
        raise SystemExit(f"passport sync failed: {status}")
    return took


def time_queued(env: dict) -> dict:
    import dagster as dg

    from passport_pipelines.jobs.partitions import sync_partition_key, sync_partitions

    os.environ.update({k: env[k] for k in ("PASSPORT_HOME", "PASSPORT_INTEGRATIONS_DIR", "DAGSTER_HOME")})
    with dg.DagsterInstance.get() as instance:
        from passport_pipelines.jobs.partitions import register_sync_partition
        register_sync_partition(instance, DISTRICT, YEAR)
    log = open(Path(env["PASSPORT_HOME"]) / "daemon.log", "w")
    daemon = subprocess.Popen([str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"], cwd=REPO, env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        time.sleep(8)  # the daemon up and its code server loaded, as in a running deployment
        run_id = str(uuid.uuid4())
        tags = sync_partitions.get_tags_for_partition_key(sync_partition_key(DISTRICT, YEAR))
        submitted = time.time()
        subprocess.run([str(BIN / "dagster"), "job", "launch", "-w", "workspace.yaml", "-j", "roster_sync",
                        "--run-id", run_id, "--tags", json.dumps(tags)], cwd=REPO, env=env, check=True,
                       capture_output=True)
        submitted_at = time.time()
        with dg.DagsterInstance.get() as instance:
            while True:
                record = instance.get_run_record_by_id(run_id)
                if record and record.dagster_run.is_finished:
                    break
                if time.time() - submitted > 600:
                    raise SystemExit("the queued run did not end within 10 minutes")
                time.sleep(0.2)
            if record.dagster_run.status != dg.DagsterRunStatus.SUCCESS:
                raise SystemExit(f"the queued run failed: {record.dagster_run.status}")
            [starting] = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_STARTING)
            steps = {}
            for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_SUCCESS):
                steps[entry.step_key] = round(entry.dagster_event.event_specific_data.duration_ms / 1000, 2)
        return {"run": record.end_time - starting.timestamp,
                "submitted_to_end": record.end_time - record.create_timestamp.timestamp(),
                "submit_command": submitted_at - submitted, "steps": steps}
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=0, help="a synthetic district of N students (0: the demo)")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="passport-ui-cost-"))
    try:
        drop = None
        if args.students:
            drop = root / "drop"
            subprocess.run([sys.executable, "-m", "tests.synthetic.district", str(drop),
                            "--students", str(args.students)], check=True,
                           # The synthetic district generator is test support (tests/synthetic/).
                           env={**os.environ, "PYTHONPATH": str(REPO)})
        cli, queued = [], []
        for _ in range(args.repeat):
            env = _home(root, drop)
            _prepare(env)
            cli.append(time_cli(env))
            env = _home(root, drop)
            _prepare(env)
            queued.append(time_queued(env))
        best_cli = min(cli)
        best = min(queued, key=lambda q: q["run"])
        print(f"district: {DISTRICT} ({args.students or 'demo'} students), first sync, best of {args.repeat}")
        print(f"  passport sync (command, end to end)   {best_cli:7.2f} s")
        print(f"  queued run (launch to end)            {best['run']:7.2f} s   {best['run'] / best_cli:5.2f}x")
        print(f"  queued run (queued to end)            {best['submitted_to_end']:7.2f} s   "
              f"{best['submitted_to_end'] / best_cli:5.2f}x  (1 s dequeue interval)")
        print(f"  `dagster job launch` command          {best['submit_command']:7.2f} s  (a CLI's own start; the UI "
              "submits from its running server)")
        print(f"  empty extract steps, together         "
              f"{sum(v for k, v in best['steps'].items() if k.endswith('_extracts') and k != 'source_extracts'):7.2f} s")
        print("  steps of the queued run (s):", json.dumps(best["steps"]))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
