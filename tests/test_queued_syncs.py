"""Syncs through a real `dagster-daemon`, as a deployment runs them: `passport sync` queued behind another
sync of the district, a backfill of two prior school years that commits and delivers each year's own
data, a held preview approved through the approval sensor, one notification per run from the
daemon's sensors, and a killed sync that no longer blocks its district."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
import uuid
import zipfile
from collections import Counter
from pathlib import Path

import dagster as dg
import pytest

from passport_pipelines.definitions import build_defs
from passport_pipelines.jobs.asset_groups import SYNC_GROUP
from passport_pipelines.jobs.partitions import register_sync_partition, sync_partition_key, sync_partitions
from passport_pipelines.jobs.run_tags import DISTRICT_TAG, PID_TAG, STATUS_TAG
from passport_pipelines.sensors.abandoned_runs import abandoned_sync_runs
from passport_pipelines.store.golden_store import GoldenStore
from tests.conftest import write_integration
from tests.dagster_daemon import REPO, daemon_ready, fast_queue, running_daemon, tool, wait_for
from tests.district_files import edit_rows
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.synthetic.district import generate_oneroster_district

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
YEARS = ["2023-2024", "2024-2025", "2025-2026"]
CURRENT = "2025-2026"


@pytest.fixture
def webhook():
    receiver = WebhookReceiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def _cli(*args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([str(BIN / "passport"), *args], cwd=REPO, env=env or os.environ.copy(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _done(proc: subprocess.Popen, timeout: float = 240) -> tuple[int, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out + err


def _sessions_years(zip_path: str) -> set[str]:
    with zipfile.ZipFile(zip_path) as zf:
        rows = csv.DictReader(io.StringIO(zf.read("academicSessions.csv").decode("utf-8-sig")))
        return {r["schoolYear"] for r in rows}


def _backfill(instance: dg.DagsterInstance, years: list[str]) -> str:
    """A backfill of the district's roster_sync assets over ``years``, as the partitions view launches it."""
    from dagster._core.execution.backfill import PartitionBackfill

    graph = build_defs().resolve_asset_graph()
    keys = [k for k in graph.get_all_asset_keys() if graph.get(k).group_name == SYNC_GROUP]
    backfill_id = f"bf{uuid.uuid4().hex[:8]}"
    instance.add_backfill(PartitionBackfill.from_asset_partitions(
        backfill_id=backfill_id, asset_graph=graph,
        partition_names=[sync_partition_key("lakeside", y) for y in years], asset_selection=keys,
        backfill_timestamp=time.time(), tags={}, dynamic_partitions_store=instance, all_partitions=False,
        title=None, description=None, run_config=None))
    return backfill_id


def test_queued_syncs_backfills_approvals_and_a_killed_sync(tmp_path, passport_home, sqlite_store, webhook):
    drops = tmp_path / "drops"
    for i, year in enumerate(YEARS):
        generate_oneroster_district(drops / year, 30 + 10 * i, school_year=year, seed=11 + i)
    write_integration(tmp_path / "integrations", "lakeside", [
        {"name": "sis", "type": "csv", "path": str(drops / "{school_year}"), "schema": "oneroster-1.1",
         "mode": "full"}], school_years=YEARS, schedule={"school_year_start": None},
        notifications=[{"type": "webhook", "url": webhook.url()}])
    fast_queue(Path(os.environ["DAGSTER_HOME"]))
    store = GoldenStore(sqlite_store)
    log = tmp_path / "daemon.log"
    with dg.DagsterInstance.get() as instance, running_daemon(log):
        for year in YEARS:
            register_sync_partition(instance, "lakeside", year)
        wait_for(lambda: daemon_ready(instance), timeout=90, what="the daemon's run queue", log=log)

        # Two `passport sync` at once: both queued, run by the daemon one after the other.
        first, second = _cli("sync", "lakeside"), _cli("sync", "lakeside")
        (code_1, out_1), (code_2, out_2) = _done(first), _done(second)
        assert (code_1, code_2) == (0, 0), out_1 + out_2
        assert "queued run" in out_1 and "queued run" in out_2
        runs = [instance.get_run_record_by_id(r.run_id) for r in instance.get_runs(
            dg.RunsFilter(tags={DISTRICT_TAG: "lakeside"}))]
        assert len(runs) == 2 and all(r.dagster_run.remote_job_origin is not None for r in runs)
        early, late = sorted(runs, key=lambda r: r.start_time)
        assert early.end_time <= late.start_time
        assert [v.number for v in store.versions("lakeside", CURRENT)] == [1, 2]

        # A backfill of the two prior years: each year commits its own drop and delivers its own sessions.
        backfill_id = _backfill(instance, YEARS[:2])
        wait_for(lambda: instance.get_backfill(backfill_id).status.value in ("COMPLETED", "COMPLETED_SUCCESS",
                                                                             "FAILED", "COMPLETED_FAILED"),
                 timeout=300, what="the backfill", log=log)
        assert instance.get_backfill(backfill_id).status.value in ("COMPLETED", "COMPLETED_SUCCESS"), \
            instance.get_backfill(backfill_id).status
        for year in YEARS[:2]:
            version = store.latest_version("lakeside", year)
            assert version is not None and version.number == 1 and version.status == "successfully in production"
            [delivery] = [d for d in store.deliveries(version.id) if d["status"] == "delivered"]
            assert _sessions_years(delivery["path"]) == {year[-4:]}, year
        backfill_runs = instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
        assert backfill_runs and all(r.tags.get(DISTRICT_TAG) == "lakeside" for r in backfill_runs)

        # A held preview, approved: the approval sensor commits and delivers it.
        edit_rows(drops / CURRENT / "users.csv",
                  lambda rows: [{**r, "givenName": f"Renamed{i}"} if i < 3 else r for i, r in enumerate(rows)])
        code, out = _done(_cli("sync", "lakeside", "--preview"))
        assert code == 3, out
        held = store.versions("lakeside", CURRENT)[-1]
        assert held.status == "held" and held.number == 3
        code, out = _done(_cli("approve", "lakeside", "3", "--by", "registrar@lakeside.k12.us", "--no-run"))
        assert code == 0, out
        wait_for(lambda: store.versions("lakeside", CURRENT)[-1].status == "successfully in production",
                 timeout=150, what="the approved version in production", log=log)

        # Every sync run notified once, by whichever sender saw it first.
        sync_runs = {r.run_id for r in instance.get_runs(dg.RunsFilter(tags={DISTRICT_TAG: "lakeside"}))}
        wait_for(lambda: {b["run_id"] for b in webhook.json_bodies()} >= sync_runs, timeout=150,
                 what="a notification for every sync run", log=log)
        sent = Counter(b["run_id"] for b in webhook.json_bodies())
        assert set(sent) == sync_runs and set(sent.values()) == {1}, sent
        events = Counter(b["event"] for b in webhook.json_bodies())
        assert events == {"finished": len(sync_runs) - 1, "held": 1}

        # A `passport sync` killed outright: its run would block the district's queue for good. The
        # abandoned_sync_runs sensor ends it (evaluated here rather than waiting for its next tick in the
        # daemon, a minute away), and a sync launched from the UI, queued behind it, then runs.
        killed = _cli("sync", "lakeside", env={**os.environ, "PASSPORT_SYNC_IN_PROCESS": "1"})

        def started() -> dg.DagsterRun | None:
            found = [r for r in instance.get_runs(dg.RunsFilter(tags={DISTRICT_TAG: "lakeside"},
                                                                statuses=[dg.DagsterRunStatus.STARTED]))
                     if PID_TAG in r.tags]
            return found[0] if found else None
        wait_for(lambda: started() is not None, timeout=120, what="the CLI sync's run started")
        victim = started()
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
        ui_run = str(uuid.uuid4())
        tags = sync_partitions.get_tags_for_partition_key(sync_partition_key("lakeside", CURRENT))
        subprocess.run([tool("dagster"), "job", "launch", "-w", "workspace.yaml", "-j", "roster_sync",
                        "--run-id", ui_run, "--tags", __import__("json").dumps(tags)], cwd=REPO, check=True,
                       capture_output=True)
        time.sleep(3)
        # The daemon ticks abandoned_sync_runs too (every minute): on a busy machine its tick may come before
        # ours. A run's status only moves forward, so the UI run is read first: if the killed run is still
        # STARTED after that, it was STARTED then, and the UI run must have waited behind it.
        ui_status = instance.get_run_by_id(ui_run).status
        if instance.get_run_by_id(victim.run_id).status == dg.DagsterRunStatus.STARTED:
            assert ui_status == dg.DagsterRunStatus.QUEUED  # behind the killed run
            result = abandoned_sync_runs(dg.build_sensor_context(instance=instance))
            assert victim.run_id in (result.skip_message or "") or \
                instance.get_run_by_id(victim.run_id).status == dg.DagsterRunStatus.FAILURE
        wait_for(lambda: instance.get_run_by_id(ui_run).is_finished, timeout=240,
                 what="the UI sync after the killed one", log=log)
        assert instance.get_run_by_id(victim.run_id).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(ui_run).status == dg.DagsterRunStatus.SUCCESS
        assert instance.get_run_by_id(ui_run).tags[STATUS_TAG] == "successfully in production"
