"""Which sync runs are really running, and which were abandoned by a killed process.

Dagster marks a run failed when its process ends in an orderly way. A process killed outright
(``kill -9``, a machine losing power) leaves its run ``STARTED`` for good, and with one sync per
district at a time, that district's next syncs would wait forever. Dagster's run monitoring
(``max_runtime_seconds`` in the instance's ``dagster.yaml``) ends such runs eventually; this module
finds them at once on the machine that ran them: each sync run records the process executing it
(``passport/pid`` = host, pid and the process's start time, so a recycled pid is not mistaken for
it), and a run whose process is gone from its host is marked failed.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import dagster as dg

from passport_pipelines.jobs.partitions import DISTRICT
from passport_pipelines.jobs.run_tags import DISTRICT_TAG, PID_TAG

IN_PROGRESS = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED,
               dg.DagsterRunStatus.CANCELING]


def _start_ticks(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), or None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22, counted after the command name, which is in parentheses and may hold spaces.
    return stat.rsplit(")", 1)[1].split()[19]


def this_process() -> str:
    """The ``passport/pid`` tag value of the current process."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_ticks(pid) or ''}"


def _process_gone(tag: str) -> bool:
    """Whether the process a ``passport/pid`` tag names is gone; False when it ran on another host
    (nothing can be told from here: run monitoring covers those)."""
    host, _, rest = tag.partition(":")
    pid, _, ticks = rest.partition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if not Path("/proc/self").exists():  # not Linux: the pid alone
        return not _pid_exists(int(pid))
    now = _start_ticks(int(pid))
    return now is None or (bool(ticks) and now != ticks)


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def district_runs_in_progress(instance: dg.DagsterInstance, district: str) -> list[dg.DagsterRun]:
    """Runs of the district that have not ended (by either district tag), oldest first."""
    found: dict[str, dg.DagsterRun] = {}
    for tag in (f"dagster/partition/{DISTRICT}", DISTRICT_TAG):
        for record in instance.get_run_records(dg.RunsFilter(statuses=IN_PROGRESS, tags={tag: district})):
            found[record.dagster_run.run_id] = record.dagster_run
    records = {r.dagster_run.run_id: r for r in instance.get_run_records(dg.RunsFilter(run_ids=list(found)))} \
        if found else {}
    return sorted(found.values(), key=lambda run: records[run.run_id].create_timestamp)


def fail_abandoned_runs(instance: dg.DagsterInstance, district: str | None = None) -> list[str]:
    """Mark failed the in-progress sync runs (of ``district``, or all) whose process is gone; their ids."""
    if district:
        runs = district_runs_in_progress(instance, district)
    else:
        runs = [r.dagster_run for r in instance.get_run_records(dg.RunsFilter(statuses=IN_PROGRESS))]
    failed = []
    for run in runs:
        tag = run.tags.get(PID_TAG)
        if tag and _process_gone(tag):
            instance.report_run_failed(run, f"the process running this sync ({tag}) is gone (killed?): "
                                            "marked failed so the district's next syncs can run")
            failed.append(run.run_id)
    return failed


def started_before(instance: dg.DagsterInstance, district: str, run_id: str) -> dg.DagsterRun | None:
    """Another sync of the district that started before this run and is still running, if any.

    Only the later of two overlapping runs is refused: each sees the other, but only one of them
    started first. (The commit's own check on the base version is what keeps the store right if
    both went on; this check makes the later run stop at once instead of after all its work.)"""
    fail_abandoned_runs(instance, district)
    mine = instance.get_run_record_by_id(run_id)
    my_start = mine.start_time if mine and mine.start_time else None
    for run in district_runs_in_progress(instance, district):
        if run.run_id == run_id or run.status not in (dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED):
            continue
        other = instance.get_run_record_by_id(run.run_id)
        if other and other.start_time and (my_start is None or other.start_time < my_start):
            return run
    return None
