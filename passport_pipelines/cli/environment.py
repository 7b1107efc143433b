"""Defaults the CLI applies before touching Dagster: DAGSTER_HOME under PASSPORT_HOME."""

from __future__ import annotations

import os

from passport_pipelines import settings


def prepare_dagster_home() -> str:
    home = settings.dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    config = home / "dagster.yaml"
    if not config.exists():
        # Telemetry off: the hub runs on machines without internet access.
        config.write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    return str(home)
