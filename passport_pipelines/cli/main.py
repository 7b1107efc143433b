"""The ``passport`` command."""

from __future__ import annotations

import logging

import click

from passport_pipelines import settings
from passport_pipelines.artifacts.disk_space import disk_full_message, is_disk_full
from passport_pipelines.cli.api_clients_command import api_clients
from passport_pipelines.cli.approval_commands import approve, reject
from passport_pipelines.cli.changes_command import changes
from passport_pipelines.cli.connection_command import test_connection
from passport_pipelines.cli.duplicates_command import duplicates
from passport_pipelines.cli.history_command import download, history
from passport_pipelines.cli.integrations_commands import integrations
from passport_pipelines.cli.output import fail
from passport_pipelines.cli.serve_command import serve
from passport_pipelines.cli.sync_command import sync
from passport_pipelines.cli.templates_command import templates
from passport_pipelines.cli.ui_command import ui
from passport_pipelines.cli.validate_command import validate
from passport_pipelines.file_modes import make_private
from passport_pipelines.validation.credentials.landing import sweep_abandoned_landings


class _PassportCommands(click.Group):
    """The commands, with a full disk reported as one line instead of a library's traceback (the
    run's step failures already say so; this is for the writes around them: Dagster's SQLite run
    storage, the golden store on SQLite, files under PASSPORT_HOME)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except Exception as exc:
            homes = (settings.passport_home(), settings.dagster_home())
            if not any(is_disk_full(exc, home) for home in homes):
                raise
            fail(disk_full_message(exc, homes))


@click.group(cls=_PassportCommands)
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
def cli(verbose: bool) -> None:
    """Passport Data Sync: roster data hub for K-12 districts."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)
    # Homes made before files were kept private (or by another tool) are narrowed on every start.
    for home in (settings.passport_home(), settings.dagster_home()):
        make_private(home)
    sweep_abandoned_landings()  # plain-text secrets of a sync that was killed outright


cli.add_command(integrations)
cli.add_command(sync)
cli.add_command(validate)
cli.add_command(history)
cli.add_command(changes)
cli.add_command(test_connection)
cli.add_command(templates)
cli.add_command(duplicates)
cli.add_command(approve)
cli.add_command(reject)
cli.add_command(download)
cli.add_command(ui)
cli.add_command(serve)
cli.add_command(api_clients)
