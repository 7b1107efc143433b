"""Removing what ended runs leave behind: working tables, hand-offs, staging folders, partial files.

Run at the start of every sync of a partition (``integration_settings``). Working tables hold
student data, so they do not outlive their use:

- a run's working folder goes once the run has succeeded; a failed or canceled run's is kept
  ``FAILED_RUN_DAYS`` for a re-execution from the failed step, then goes; a folder whose run the
  instance does not know (a run deleted from the UI, a test) goes after a day;
- hand-offs (small JSON files of counts and paths) go after ``HANDOFF_DAYS`` (a held sync approved
  later reads the last hand-offs of its partition; a hold is superseded by the next sync long before);
- hidden staging folders and ``.partial`` files are what a killed process was writing: gone after
  ``STAGING_HOURS``, which no live write takes.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import dagster as dg

from passport_pipelines import settings
from passport_pipelines.artifacts.layout import people_dir, reuse_root, runs_dir

FAILED_RUN_DAYS = 7
UNKNOWN_RUN_DAYS = 1
HANDOFF_DAYS = 90
STAGING_HOURS = 1

_DAY = 86400.0


def _age(path: Path, now: float) -> float:
    try:
        return now - path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def sweep_partition(instance: dg.DagsterInstance, district: str, school_year: str, *, current_run: str) -> dict:
    """Sweep the partition's ended runs and debris; returns what went, by kind (for the run's metadata)."""
    now = time.time()
    removed = {"run_folders": 0, "staging": 0, "handoffs": 0}
    runs = runs_dir(district, school_year)
    if runs.is_dir():
        for folder in runs.iterdir():
            if folder.name == current_run:
                continue
            if folder.name.startswith("."):
                if _age(folder, now) > STAGING_HOURS * 3600:
                    removed["staging"] += _remove(folder)
                continue
            if _run_folder_expired(instance, folder, now):
                removed["run_folders"] += _remove(folder)
    for root in (runs, reuse_root(district, school_year), people_dir(district, school_year)):
        removed["staging"] += _sweep_staging(root, now)
    handoffs = settings.artifacts_dir() / "handoffs"
    if handoffs.is_dir():
        for folder in handoffs.iterdir():
            if folder.name != current_run and _age(folder, now) > HANDOFF_DAYS * _DAY:
                removed["handoffs"] += _remove(folder)
    return removed


def _run_folder_expired(instance: dg.DagsterInstance, folder: Path, now: float) -> bool:
    run = instance.get_run_by_id(folder.name)
    if run is None:
        return _age(folder, now) > UNKNOWN_RUN_DAYS * _DAY
    if not run.is_finished:
        return False
    if run.status == dg.DagsterRunStatus.SUCCESS:
        return True
    return _age(folder, now) > FAILED_RUN_DAYS * _DAY


def _sweep_staging(root: Path, now: float) -> int:
    """Hidden staging folders (``.<name>.<random>``) a killed writer left anywhere under ``root``."""
    if not root.is_dir():
        return 0
    gone = 0
    for path in list(root.rglob(".*")):
        if path.is_dir() and _age(path, now) > STAGING_HOURS * 3600:
            gone += _remove(path)
    return gone


def sweep_partial_files(folder: Path) -> int:
    """``.partial`` files a killed delivery left in a delivery folder; returns how many went."""
    if not folder.is_dir():
        return 0
    now, gone = time.time(), 0
    for path in folder.glob(".*.partial"):
        if _age(path, now) > STAGING_HOURS * 3600:
            path.unlink(missing_ok=True)
            gone += 1
    return gone


def _remove(path: Path) -> int:
    shutil.rmtree(path, ignore_errors=True)
    return 0 if path.exists() else 1
