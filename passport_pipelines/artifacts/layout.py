"""Where a sync's files live under ``$PASSPORT_HOME/artifacts``.

originals/     the drops exactly as received, one folder per sync (run), kept with its version
intermediate/  Parquet tables handed from one stage to the next, per partition
"""

from __future__ import annotations

from pathlib import Path

from passport_pipelines import settings


def originals_dir(district: str, school_year: str, run_id: str) -> Path:
    return settings.artifacts_dir() / "originals" / district / school_year / run_id


def intermediate_dir(stage: str, district: str, school_year: str) -> Path:
    return settings.artifacts_dir() / "intermediate" / stage / district / school_year
