"""Where a sync's files live under ``$PASSPORT_HOME/artifacts``.

originals/<district>/<year>/<run id>/   the drops exactly as received, kept with their version
runs/<district>/<year>/<run id>/        one run's working tables (Parquet), handed from stage to stage;
                                        no other run reads or writes them, and they are swept once
                                        the run has ended (``sweep.py``)
reuse/<district>/<year>/<stage>/<source>/<fingerprint>/
                                        a stage's output filed under what it was computed from, so a
                                        later sync of byte-identical input links it instead of
                                        recomputing it (``reuse.py``); never changed once written
handoffs/<run id>/                      what each asset of a run handed to the next (``handoffs.py``)
people/<district>/<year>/               the person records cache between syncs
held/<district>/<year>/<run id>/        the change set of a held sync, waiting for its approval
"""

from __future__ import annotations

from pathlib import Path

from passport_pipelines import settings


def originals_dir(district: str, school_year: str, run_id: str) -> Path:
    return settings.artifacts_dir() / "originals" / district / school_year / run_id


def runs_dir(district: str, school_year: str) -> Path:
    """The working folders of every run of a partition, one per run id."""
    return settings.artifacts_dir() / "runs" / district / school_year


def stage_dir(stage: str, district: str, school_year: str, run_id: str) -> Path:
    """A stage's working tables in one run: no other run ever writes here."""
    return runs_dir(district, school_year) / run_id / stage


def reuse_root(district: str, school_year: str) -> Path:
    return settings.artifacts_dir() / "reuse" / district / school_year


def reuse_dir(stage: str, district: str, school_year: str, source: str) -> Path:
    """The fingerprinted outputs of a stage for one source, one folder per fingerprint."""
    return reuse_root(district, school_year) / stage / source


def handoffs_dir(run_id: str) -> Path:
    return settings.artifacts_dir() / "handoffs" / run_id


def people_dir(district: str, school_year: str) -> Path:
    return settings.artifacts_dir() / "people" / district / school_year
