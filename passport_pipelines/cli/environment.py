"""The Dagster instance the CLI and `make ui` use: DAGSTER_HOME under PASSPORT_HOME, with the settings a
sync needs whoever launches it.

``dagster.yaml`` is created when missing, and completed when it lacks a setting below (keys already
there are left as they are):

- telemetry off, and no newsletter prompt in the UI: the hub runs on machines without internet access;
- one sync per district at a time: the run queue starts a second sync of a district only when the
  first has ended (every sync run carries its district as the ``dagster/partition/district`` tag);
- run monitoring: a run whose process died without a word is marked failed after
  ``max_runtime_seconds``, so its district's queue moves on (runs of this machine are caught at once
  by the ``abandoned_sync_runs`` sensor).
"""

from __future__ import annotations

import os

import yaml

from passport_pipelines import settings

ONE_SYNC_PER_DISTRICT = {"key": "dagster/partition/district", "value": {"applyLimitPerUniqueValue": True},
                         "limit": 1}
RUN_MONITORING = {"enabled": True, "start_timeout_seconds": 300, "max_runtime_seconds": 4 * 3600,
                  "poll_interval_seconds": 60}


def instance_settings(existing: dict | None) -> dict:
    """``existing`` completed with what a sync needs."""
    config = dict(existing or {})
    config.setdefault("telemetry", {"enabled": False})
    config.setdefault("nux", {"enabled": False})
    runs = config.setdefault("concurrency", {}).setdefault("runs", {})
    limits = runs.setdefault("tag_concurrency_limits", [])
    if not any(limit.get("key") == ONE_SYNC_PER_DISTRICT["key"] for limit in limits):
        limits.append(ONE_SYNC_PER_DISTRICT)
    config.setdefault("run_monitoring", RUN_MONITORING)
    return config


def prepare_dagster_home() -> str:
    home = settings.dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    path = home / "dagster.yaml"
    existing = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    wanted = instance_settings(existing)
    if wanted != existing:
        tmp = path.with_name(".dagster.yaml.tmp")
        tmp.write_text(yaml.safe_dump(wanted, sort_keys=False), encoding="utf-8")
        tmp.replace(path)
    return str(home)
