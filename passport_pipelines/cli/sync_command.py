"""passport sync: one district's school year through the Dagster job, queued or in this process."""

from __future__ import annotations

import getpass
import logging

import click

from passport_pipelines import settings
from passport_pipelines.cli.decider_option import checked_committer
from passport_pipelines.cli.environment import prepare_dagster_home
from passport_pipelines.cli.output import emit_json, fail
from passport_pipelines.config.loader import IntegrationError, load_district
from passport_pipelines.normalize.rules.counts import rule_lines

HELD_EXIT_CODE = 3
OK_STATUSES = ("successfully in production", "previewed: nothing to change")


def run_sync(district: str, school_year: str, committed_by: str, log_level: str = "WARNING", *,
             job_name: str = "roster_sync", tags: dict | None = None) -> dict:
    """Run a sync job for one partition against the instance in DAGSTER_HOME (queued when a daemon
    serves it, else here under the district's lock), send its notification, and return its summary."""
    import dagster as dg

    from passport_pipelines.cli.sync_launch import daemon_serves, execute_here, prepare_instance, queue_run
    from passport_pipelines.jobs.district_lock import district_lock
    from passport_pipelines.jobs.run_summary import summarize_run
    from passport_pipelines.jobs.run_tags import COMMITTED_BY_TAG, DISTRICT_TAG, SCHOOL_YEAR_TAG, TRIGGER_TAG
    from passport_pipelines.jobs.sync_run_notices import notify_sync_run
    from passport_pipelines.resources.golden_store import GoldenStoreResource
    from passport_pipelines.resources.integrations import IntegrationsResource
    from passport_pipelines.resources.notifier import NotifierResource

    instance = dg.DagsterInstance.get()
    prepare_instance(instance, district, school_year)
    tags = {COMMITTED_BY_TAG: committed_by, DISTRICT_TAG: district, SCHOOL_YEAR_TAG: school_year,
            TRIGGER_TAG: "cli", **(tags or {})}

    def echo(line: str) -> None:
        click.echo(line, err=True)

    if daemon_serves(instance):
        run_id = queue_run(instance, job_name, district, school_year, tags, echo)
    else:
        with district_lock(settings.database_url(), district,
                           on_wait=lambda: echo(f"another passport sync of {district} is running: waiting for it")):
            run_id = execute_here(job_name, district, school_year, tags, log_level)
    store = GoldenStoreResource().store()
    run = instance.get_run_by_id(run_id)
    try:
        # The code location's notifier: its PASSPORT_SMTP_* settings resolved as a run would resolve them.
        with dg.build_resources({"notifier": NotifierResource.from_environment()}) as resources:
            notify_sync_run(instance, run, store, IntegrationsResource(), resources.notifier, sender="cli",
                            logger=logging.getLogger("passport.notifications"))
    except Exception as exc:  # the sync's outcome stands; the notification's failure is reported
        echo(f"notification failed: {exc}")
    return summarize_run(instance, run_id, store)


@click.command("sync")
@click.argument("district")
@click.option("--school-year", help="e.g. 2025-2026 (default: the latest in the integration file).")
@click.option("--preview", is_flag=True, help="Hold the change set for approval instead of committing it.")
@click.option("--no-deletions", is_flag=True, help="Import without deletions: nothing on record is deleted.")
@click.option("--force", is_flag=True, help="Sync even though the district is paused.")
@click.option("--by", callback=checked_committer,
              help="Who commits the version (e.g. an e-mail address), shown in the history; default cli:<OS user>.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def sync(district: str, school_year: str | None, preview: bool, no_deletions: bool, force: bool, by: str | None,
         as_json: bool) -> None:
    """Run a full sync of DISTRICT: validate, normalize, commit a version, deliver.

    With a Dagster daemon serving the instance (dagster dev, or dagster-daemon), the sync is queued
    behind any other sync of the district and run by the daemon; otherwise it runs in this process,
    after any other `passport sync` of the district has ended.

    Exit status: 0 in production (or a preview with nothing to change), 3 held for approval (a
    preview, or the sync hold threshold), 1 anything else."""
    from datetime import datetime, timezone

    from passport_pipelines.assets.sync_guard import pause_refusal, school_year_refusal

    try:
        integration = load_district(district)
    except IntegrationError as exc:
        fail(str(exc))
    year = school_year or max(integration.school_years)
    if year not in integration.school_years:
        fail(school_year_refusal(integration, year))
    today = datetime.now(timezone.utc).astimezone(integration.schedule.zone).date()
    if integration.paused_on(today) and not force:
        fail(pause_refusal(integration))
    home = prepare_dagster_home()
    verbose = logging.getLogger().isEnabledFor(logging.INFO)
    from passport_pipelines.jobs.run_tags import FORCE_TAG, NO_DELETIONS_TAG, PREVIEW_TAG

    tags = {**({NO_DELETIONS_TAG: "true"} if no_deletions else {}), **({FORCE_TAG: "true"} if force else {}),
            **({PREVIEW_TAG: "true"} if preview else {})}
    summary = run_sync(district, year, committed_by=by or f"cli:{getpass.getuser()}",
                       log_level="INFO" if verbose else "WARNING",
                       job_name="preview_sync" if preview else "roster_sync", tags=tags)
    report(summary, home, as_json)


def report(summary: dict, home: str, as_json: bool) -> None:
    """Print a sync's summary and exit with its status: 0 in production, 3 held, 1 otherwise."""
    if as_json:
        emit_json({k: v for k, v in summary.items() if k != "checks"})
    else:
        _print_summary(summary, home)
    if summary["status"] == "held":
        raise SystemExit(HELD_EXIT_CODE)
    if summary["status"] not in OK_STATUSES:
        raise SystemExit(1)


def check_findings(check: dict) -> tuple[int, list[str]]:
    """How many findings a failed check has, and its first ones as lines, whatever the check: file
    findings (validation), failure cases (the canonical schema) or rows missing a field."""
    meta = check.get("metadata", {})
    total = next((meta[k] for k in ("total", "failure_cases", "rows_missing_a_required_field") if k in meta), None)
    lines = []
    for row in meta.get("findings") or []:
        lines.append(f"{row['file']}:{row['line']} {row['column'] or ''} [{row['rule']}] {row['message']}")
    for row in meta.get("failures") or []:
        lines.append(f"{row['source']} {row['entity']}.{row['column']}: {row['check']} "
                     f"(value {row['failure_case']}, row {row['index']})")
    if total is None:
        total = len(lines)
    return int(total), lines


def accounting_lines(rows: dict[str, dict]) -> list[str]:
    """Per entity with rows not delivered: rows read, delivered, and each reason with its count."""
    lines = []
    for entity, a in rows.items():
        reasons = {**({"tobedeleted": a["tobedeleted"]} if a["tobedeleted"] else {}),
                   **{f"filtered {rule}": n for rule, n in a["filtered"].items()},
                   **{f"left out {reason}": n for reason, n in a["left_out"].items()}}
        if reasons:
            lines.append(f"rows {entity}: {a['read']:,} read, {a['delivered']:,} delivered; "
                         + ", ".join(f"{reason} {n:,}" for reason, n in reasons.items()))
    return lines


def _print_summary(s: dict, home: str) -> None:
    click.echo(f"{s['district']} {s['school_year']}: {s['status']}" + (f" (version {s['version']})" if s["version"] else ""))
    for entity, c in s["changes"].items():
        if any(c.values()):
            click.echo(f"  {entity:18} +{c['added']:<7} ~{c['updated']:<7} -{c['deleted']}")
    for line in accounting_lines(s.get("accounting") or {}):
        click.echo(f"  {line}")
    if s["filtered"] and not s["failed_checks"]:
        refs = s["checks"].get("references_resolve", {}).get("metadata", {})
        for row in (refs.get("findings") or [])[:5]:
            click.echo(f"    {row['file']}:{row['line']} {row['column']}={row['value']!r}: {row['message']}")
    for source, c in sorted((s.get("sso_credentials") or {}).items()):
        click.echo(f"  sso credentials {source}: +{c['added']} ~{c['updated']} -{c['deleted']}")
        if c.get("unknown_accounts"):
            click.echo(f"    {c['unknown_accounts']} not stored: no source has the account "
                       f"({', '.join(c['unknown_account_ids'])}{', ...' if c['unknown_accounts'] > len(c['unknown_account_ids']) else ''})")
    for line in rule_lines(s.get("rules") or {}):
        click.echo(f"  rules {line}")
    if s["status"] == "held":
        for reason in s["hold_reasons"]:
            click.echo(f"  held: {reason}")
        if any("left out by references" in r for r in s["hold_reasons"]):
            click.echo("  HELD: rows of this drop point at records that do not exist and would vanish from "
                       "the district's data; nothing is committed or delivered until someone approves "
                       "(fix the drop, or approve if it is meant)", err=True)
        click.echo(f"  review:  passport changes {s['district']} {s['version']} --school-year {s['school_year']}")
        click.echo(f"  approve: passport approve {s['district']} {s['version']} --school-year {s['school_year']} "
                   "--by EMAIL   (or reject; in the UI: the approve_sync / reject_sync jobs)")
    duplicates = s.get("duplicates") or {}
    if duplicates.get("merged") or duplicates.get("pending"):
        click.echo(f"  duplicates: {duplicates['merged']} merged, {duplicates['new_cases']} new case(s) to "
                   f"review, {duplicates['pending']} pending (passport duplicates list {s['district']})")
    for path in s["deliveries"]:
        click.echo(f"  delivered: {path}")
    for name in s["failed_checks"]:
        total, lines = check_findings(s["checks"][name])
        click.echo(f"  check {name} failed: {total} finding(s)", err=True)
        totals = (s.get("failures") or {}).get(name, {}).get("totals_by_rule") or {}
        if totals:
            click.echo("    by rule: " + ", ".join(f"{rule} {n}" for rule, n in totals.items()), err=True)
        for line in lines[:20]:
            click.echo(f"    {line}", err=True)
    for err in s["errors"]:
        if not s["failed_checks"]:
            click.echo(f"  {err}", err=True)
    click.echo(f"run {s['run_id']} — see it in the Dagster UI: DAGSTER_HOME={home} dagster dev -w workspace.yaml")
