"""passport approve / reject: decide a held sync. An approval commits and delivers it."""

from __future__ import annotations

import click

from passport_pipelines import settings
from passport_pipelines.changes.held_decisions import decide_held_sync
from passport_pipelines.cli.decider_option import checked_decider
from passport_pipelines.cli.environment import prepare_dagster_home
from passport_pipelines.cli.output import emit_json, fail
from passport_pipelines.cli.sync_command import report, run_sync
from passport_pipelines.config.approvers import NotAnApprover
from passport_pipelines.config.loader import IntegrationError, load_district
from passport_pipelines.store.golden_store import GoldenStore
from passport_pipelines.store.sync_holds import DecisionError


def _decide(district: str, version: int, school_year: str | None, by: str, approve: bool):
    try:
        integration = load_district(district)
        year = school_year or max(integration.school_years)
        return year, decide_held_sync(GoldenStore(settings.database_url()), integration, year, version,
                                      approve=approve, by=by)
    except (IntegrationError, NotAnApprover, DecisionError) as exc:
        fail(str(exc))


_options = [
    click.argument("district"),
    click.argument("version", type=int),
    click.option("--by", required=True, callback=checked_decider,
                 help="Who decides (e.g. an e-mail address), one line; kept in the history. With approvers "
                      "configured, one of them."),
    click.option("--school-year", help="default: the latest in the integration file."),
    click.option("--json", "as_json", is_flag=True, help="Print one JSON object."),
]


def _with_options(command):
    for option in reversed(_options):
        command = option(command)
    return command


@click.command("approve")
@_with_options
@click.option("--no-run", is_flag=True, help="Only record the approval; the approval_sensor commits and delivers.")
def approve(district: str, version: int, by: str, school_year: str | None, as_json: bool, no_run: bool) -> None:
    """Approve held VERSION of DISTRICT: commit it and deliver it (exit 0 when in production)."""
    from passport_pipelines.jobs.run_tags import APPROVED_VERSION_TAG, TRIGGER_TAG
    from passport_pipelines.jobs.sync_jobs import COMMIT_APPROVED_SYNC

    year, decided = _decide(district, version, school_year, by, approve=True)
    if no_run:
        if as_json:
            emit_json(decided.as_dict())
        else:
            click.echo(f"{district} {year} version {version} approved by {decided.decided_by}; "
                       "the approval_sensor commits and delivers it")
        return
    home = prepare_dagster_home()
    summary = run_sync(district, year, committed_by=decided.committed_by, job_name=COMMIT_APPROVED_SYNC,
                       tags={APPROVED_VERSION_TAG: str(decided.number), TRIGGER_TAG: "approval"})
    report(summary, home, as_json)


@click.command("reject")
@_with_options
def reject(district: str, version: int, by: str, school_year: str | None, as_json: bool) -> None:
    """Reject held VERSION of DISTRICT: its change set is discarded; the golden store is unchanged."""
    year, decided = _decide(district, version, school_year, by, approve=False)
    if as_json:
        emit_json(decided.as_dict())
    else:
        click.echo(f"{district} {year} version {version} rejected by {decided.decided_by}; nothing was committed")
