"""passport ui: the Dagster UI (webserver and daemon) on the instance the CLI uses."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from passport_pipelines import settings
from passport_pipelines.cli.environment import prepare_dagster_home


@click.command("ui")
@click.option("--port", default=3000, show_default=True, help="Port of the web UI.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
def ui(port: int, host: str) -> None:
    """Start `dagster dev` (the web UI, the daemon for schedules, sensors and the run queue) on the
    instance in DAGSTER_HOME, set up as `passport sync` uses it: one sync per district at a time,
    run monitoring, telemetry off."""
    home = prepare_dagster_home()
    workspace = settings.REPO_ROOT / "workspace.yaml"
    target = ["-w", str(workspace)] if workspace.is_file() else ["-m", "passport_pipelines.definitions"]
    dagster = Path(sys.executable).with_name("dagster")
    click.echo(f"Dagster UI on http://{host}:{port} (DAGSTER_HOME={home})", err=True)
    os.chdir(settings.REPO_ROOT if workspace.is_file() else Path.cwd())
    os.execv(str(dagster), [str(dagster), "dev", *target, "-h", host, "-p", str(port)])
