"""The production deployment: the shipped `deploy/dagster.yaml` on PostgreSQL, run by `dagster-daemon`.

Three `roster_sync` runs are queued with `dagster job launch` (two of one district, one of another),
then the daemon is started. The per-district tag limit must keep the two syncs of one district
apart in time, while the other district runs beside the first; the golden store then holds
versions 1 and 2 of the district, one after the other.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.events import DagsterEventType
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage
from sqlalchemy.engine import make_url

from passport_pipelines.assets.api_extracts import KIND_LABELS, pool_name
from passport_pipelines.jobs.partitions import (
    district_partitions,
    school_year_partitions,
    sync_partition_key,
    sync_partitions,
)
from passport_pipelines.jobs.run_tags import COMMITTED_BY_TAG, DISTRICT_TAG
from passport_pipelines.jobs.sync_jobs import ROSTER_SYNC
from passport_pipelines.store.golden_store import GoldenStore
from tests.conftest import write_integration
from tests.district_files import make_district

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy" / "dagster.yaml"
BIN = Path(sys.executable).parent
YEAR = "2025-2026"
IN_FLIGHT = {dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED}
TIMEOUT = 300  # seconds for all three runs; well under a minute on an idle machine, minutes on a busy one


def _tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.skip(f"{name} is not installed beside {sys.executable}")
    return str(path)


@pytest.fixture
def dagster_database(postgres_base_url):
    """A fresh PostgreSQL database for Dagster's storage (and the golden store, in schema `passport`)."""
    if postgres_base_url is None:
        pytest.skip("PostgreSQL not reachable: set PASSPORT_TEST_POSTGRES_URL or start a server on 127.0.0.1:5432")
    import psycopg

    base = make_url(postgres_base_url).set(drivername="postgresql")
    name = f"dagster_test_{uuid.uuid4().hex[:10]}"
    admin = base.render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute('CREATE SCHEMA "passport"')
        yield url  # postgresql://…/dagster_test_…
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def production_home(tmp_path, passport_home, dagster_database, monkeypatch):
    """DAGSTER_HOME holding the shipped deploy/dagster.yaml, DAGSTER_PG_URL pointing at the fresh database."""
    config = yaml.safe_load(DEPLOY.read_text(encoding="utf-8"))
    # Only for speed: the daemon looks at the queue every second instead of every five. The
    # storage, the coordinator and the concurrency section are used exactly as shipped.
    config["run_coordinator"].setdefault("config", {})["dequeue_interval_seconds"] = 1
    dagster_home = Path(os.environ["DAGSTER_HOME"])
    (dagster_home / "dagster.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    # As deploy/dagster.yaml says: name psycopg2, the driver dagster-postgres is built on (SQLAlchemy 2.1
    # maps a bare postgresql:// to psycopg 3, with which dagster-postgres cannot store run events).
    monkeypatch.setenv("DAGSTER_PG_URL", dagster_database.replace("postgresql://", "postgresql+psycopg2://", 1))
    store_url = f"{dagster_database}{'&' if '?' in dagster_database else '?'}options=-csearch_path%3Dpassport"
    monkeypatch.setenv("PASSPORT_DATABASE_URL", store_url)
    # School-year starts would be scheduled syncs; with none, the daemon's schedule stays quiet.
    for district in ("lakeside", "hillcrest"):
        drop = make_district(tmp_path / f"drop-{district}", students=40)
        write_integration(tmp_path / "integrations", district, [
            {"name": "sis", "type": "csv", "path": str(drop), "schema": "oneroster-1.1", "mode": "full"}],
            schedule={"school_year_start": None})
    return store_url


def _launch(district: str, run_id: str) -> subprocess.Popen:
    """Queue one sync the way an operator would: `dagster job launch` with the partition's tags."""
    tags = {**sync_partitions.get_tags_for_partition_key(sync_partition_key(district, YEAR)),
            COMMITTED_BY_TAG: "deploy-test", DISTRICT_TAG: district}
    return subprocess.Popen(
        [_tool("dagster"), "job", "launch", "-w", "workspace.yaml", "-j", ROSTER_SYNC,
         "--run-id", run_id, "--tags", json.dumps(tags)],
        cwd=REPO, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@contextmanager
def _daemon(log: Path):
    """`dagster-daemon run` on the shipped workspace; it and its code server are stopped on the way out."""
    with log.open("w") as out:
        proc = subprocess.Popen([_tool("dagster-daemon"), "run", "-w", "workspace.yaml"], cwd=REPO,
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


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


def _failures(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The failure events of a run, with the error each carries (the step's exception, not just "failed")."""
    kinds = {DagsterEventType.RUN_FAILURE, DagsterEventType.STEP_FAILURE}
    found = []
    for entry in instance.all_logs(run_id):
        if entry.dagster_event_type not in kinds:
            continue
        data = entry.dagster_event.event_specific_data
        error = getattr(data, "error", None)
        found.append(f"{entry.step_key or 'run'}: {entry.message} {error.to_string()[-1500:] if error else ''}")
    return found[-3:]


def _launched_at(instance: dg.DagsterInstance, run_id: str) -> float:
    """When the daemon took the run off the queue and handed it to the run launcher."""
    [event] = instance.all_logs(run_id, of_type=DagsterEventType.RUN_STARTING)
    return event.timestamp


def test_two_syncs_of_one_district_never_overlap_on_postgres(production_home, tmp_path):
    store_url = production_home
    with dg.DagsterInstance.get() as instance:
        # The shipped file really puts Dagster on PostgreSQL, behind the run queue, with the district limit.
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
        assert {"key": "dagster/partition/district", "value": {"applyLimitPerUniqueValue": True},
                "limit": 1} in limits

        instance.add_dynamic_partitions(district_partitions.name, ["lakeside", "hillcrest"])
        instance.add_dynamic_partitions(school_year_partitions.name, [YEAR])
        GoldenStore(store_url)  # migrate the store once, before runs open it side by side
        # Each pool created once before the runs, as the README's production steps do: Dagster creates a
        # pool's row on its first claim, and two runs making that first claim at once on PostgreSQL collide
        # (UniqueViolation on concurrency_limits), failing one of them. Created at the file's default_limit.
        for kind in KIND_LABELS:
            assert instance.event_log_storage.initialize_concurrency_limit_to_default(pool_name(kind))

        runs = {"lakeside-1": str(uuid.uuid4()), "lakeside-2": str(uuid.uuid4()), "hillcrest": str(uuid.uuid4())}
        launches = [_launch(name.split("-")[0], run_id) for name, run_id in runs.items()]
        for proc in launches:
            output, _ = proc.communicate(timeout=90)
            assert proc.returncode == 0, output
        # No daemon yet: the queued coordinator holds every submitted run.
        queued = {r.run_id: r.status for r in instance.get_runs(dg.RunsFilter(run_ids=list(runs.values())))}
        assert queued == {run_id: dg.DagsterRunStatus.QUEUED for run_id in runs.values()}

        log = tmp_path / "daemon.log"
        lakeside = [runs["lakeside-1"], runs["lakeside-2"]]
        held_while_other_ran = False
        with _daemon(log) as daemon:
            deadline = time.monotonic() + TIMEOUT
            while True:
                now = instance.get_runs(dg.RunsFilter(run_ids=list(runs.values())))
                status = {r.run_id: r.status for r in now}
                in_flight = [s for s in (status[r] for r in lakeside) if s in IN_FLIGHT]
                assert len(in_flight) < 2, f"two syncs of lakeside in flight at once: {status}"
                if in_flight and dg.DagsterRunStatus.QUEUED in (status[r] for r in lakeside):
                    held_while_other_ran = True
                if all(r.is_finished for r in now):
                    break
                assert daemon.poll() is None, f"dagster-daemon exited:\n{_tail(log)}"
                assert time.monotonic() < deadline, f"runs not finished after {TIMEOUT}s: {status}\n{_tail(log)}"
                time.sleep(0.25)

        records = {name: instance.get_run_record_by_id(run_id) for name, run_id in runs.items()}
        for name, record in records.items():
            assert record.dagster_run.status == dg.DagsterRunStatus.SUCCESS, (
                name, _failures(instance, record.dagster_run.run_id), _tail(log))

        first, second = sorted((records["lakeside-1"], records["lakeside-2"]), key=lambda r: r.start_time)
        other = records["hillcrest"]
        # Both syncs of lakeside were waiting before either started, yet the second started only
        # after the first had ended, and the daemon only took it off the queue then.
        assert second.create_timestamp.timestamp() < first.start_time
        assert first.end_time <= second.start_time, (first.start_time, first.end_time, second.start_time)
        assert _launched_at(instance, second.dagster_run.run_id) >= first.end_time
        assert held_while_other_ran
        # The limit is per district: hillcrest left the queue with the first lakeside sync and ran beside it.
        assert other.start_time < second.start_time
        assert max(first.start_time, other.start_time) < min(first.end_time, other.end_time)

        # Every API extract step took a slot of its kind's pool, whose limit is the file's default_limit.
        pools = instance.event_log_storage.get_concurrency_keys()
        for kind in KIND_LABELS:
            assert pool_name(kind) in pools
            assert instance.event_log_storage.get_concurrency_info(pool_name(kind)).slot_count == 3

    # The golden store (PostgreSQL too) committed version 1 from the first run, then version 2, with
    # no changes, from the second, which started after version 1 was committed.
    store = GoldenStore(store_url)
    v1, v2 = store.versions("lakeside", YEAR)
    assert (v1.number, v2.number) == (1, 2)
    assert (v1.run_id, v2.run_id) == (first.dagster_run.run_id, second.dagster_run.run_id)
    assert v1.status == v2.status == "successfully in production"
    assert v2.started_at >= v1.committed_at
    assert all(c == {"added": 0, "updated": 0, "deleted": 0} for c in v2.changes.values()), v2.changes
    assert [v.number for v in store.versions("hillcrest", YEAR)] == [1]
