"""passport sync: one district's school year through the Dagster job, in this process."""

from __future__ import annotations

import getpass
import logging

import click

from passport_pipelines.cli.environment import prepare_dagster_home
from passport_pipelines.cli.output import emit_json, fail
from passport_pipelines.config.loader import IntegrationError, load_district

HELD_EXIT_CODE = 3


def run_sync(district: str, school_year: str, committed_by: str, log_level: str = "WARNING", *,
             job_name: str = "roster_sync", tags: dict | None = None):
    """Launch a sync job for one partition against the instance in DAGSTER_HOME: the roster_sync
    (or preview_sync) job, or commit_approved_sync with the approved version in ``tags``."""
    import dagster as dg

    from passport_pipelines.definitions import defs
    from passport_pipelines.partitions import district_partitions, sync_partition_key
    from passport_pipelines.run_tags import COMMITTED_BY_TAG, DISTRICT_TAG

    instance = dg.DagsterInstance.get()
    if not instance.has_dynamic_partition(district_partitions.name, district):
        instance.add_dynamic_partitions(district_partitions.name, [district])
    job = defs.resolve_job_def(job_name)
    return job.execute_in_process(
        instance=instance,
        partition_key=sync_partition_key(district, school_year),
        tags={COMMITTED_BY_TAG: committed_by, DISTRICT_TAG: district, **(tags or {})},
        # The run's full event log is in the instance (and the UI); the terminal gets the summary.
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        raise_on_error=False,
    )


def summarize(result, district: str, school_year: str) -> dict:
    """The sync's outcome from the run's events: version, changes, filtered rows, files; for a
    held sync, the held version and why."""
    outputs = {}
    for node in ("source_extracts", "roster_changes", "golden_records", "duplicate_review_queue",
                 "oneroster_exports", "sis_writeback"):
        try:
            # The delivery step is a multi-asset: its main output is named after it.
            outputs[node] = result.output_for_node(node, node if node == "oneroster_exports" else "result")
        except Exception:  # the step did not run or did not finish
            outputs[node] = None
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    failed_checks = [name for name, e in checks.items() if not e.passed and e.severity.value == "ERROR"]
    extracts = outputs["source_extracts"] or {"sources": []}
    filtered: dict[str, int] = {}
    for s in extracts["sources"]:
        for file, n in s["filtered"].items():
            filtered[file] = filtered.get(file, 0) + n
    version = outputs["golden_records"]
    deliveries = outputs["oneroster_exports"] or []
    held = (outputs["roster_changes"] or {}).get("held_version")
    hold = checks.get("sync_hold")
    if version is None and held:
        status = "held"
        version = {"version": held["number"],
                   "changes": (outputs["roster_changes"] or {}).get("changes", {}).get("counts", {})}
        failed_checks = [c for c in failed_checks if c != "sync_hold"]
    elif version is None:
        status = "failed validation" if failed_checks else "failed"
    else:
        failed_steps = {e.step_key for e in result.all_events if e.is_step_failure}
        delivered = outputs["oneroster_exports"] is not None and not failed_steps & {"oneroster_exports",
                                                                                     "sis_writeback"}
        status = "successfully in production" if delivered else "propagation failed"
    step_errors = []
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            step_errors.append(f"{event.step_key}: {_root_cause(event.step_failure_data.error)}")
    return {
        "district": district,
        "school_year": school_year,
        "run_id": result.run_id,
        "version": version["version"] if version else None,
        "status": status,
        "changes": version["changes"] if version else {},
        "filtered": filtered,
        "deliveries": [d["path"] for d in deliveries if d.get("path") and d["status"] != "failed"],
        "duplicates": outputs["duplicate_review_queue"] or {},
        "failed_checks": failed_checks,
        "hold_reasons": _plain(hold.metadata["reasons"]) if status == "held" and hold else [],
        "errors": step_errors,
        "checks": {name: {"passed": e.passed, "metadata": {k: _plain(v) for k, v in e.metadata.items()}}
                   for name, e in checks.items()},
    }


def _root_cause(error) -> str:
    """The innermost error's message: ours, not Dagster's wrapper around it."""
    while error.cause is not None:
        error = error.cause
    return error.message.strip()


def _plain(value):
    inner = getattr(value, "value", value)
    if hasattr(inner, "records"):
        return [r.data for r in inner.records]
    return inner


@click.command("sync")
@click.argument("district")
@click.option("--school-year", help="e.g. 2025-2026 (default: the latest in the integration file).")
@click.option("--preview", is_flag=True, help="Hold the change set for approval instead of committing it.")
@click.option("--no-deletions", is_flag=True, help="Import without deletions: nothing on record is deleted.")
@click.option("--force", is_flag=True, help="Sync even though the district is paused.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def sync(district: str, school_year: str | None, preview: bool, no_deletions: bool, force: bool,
         as_json: bool) -> None:
    """Run a full sync of DISTRICT: validate, normalize, commit a version, deliver.

    Exit status: 0 in production, 3 held for approval (a preview, or the sync hold threshold),
    1 anything else."""
    try:
        integration = load_district(district)
    except IntegrationError as exc:
        fail(str(exc))
    year = school_year or max(integration.school_years)
    if year not in integration.school_years:
        fail(f"{year} is not one of {district}'s school years: {', '.join(integration.school_years)}")
    home = prepare_dagster_home()
    verbose = logging.getLogger().isEnabledFor(logging.INFO)
    from passport_pipelines.run_tags import FORCE_TAG, NO_DELETIONS_TAG

    tags = {**({NO_DELETIONS_TAG: "true"} if no_deletions else {}), **({FORCE_TAG: "true"} if force else {})}
    result = run_sync(district, year, committed_by=f"cli:{getpass.getuser()}", log_level="INFO" if verbose else "WARNING",
                      job_name="preview_sync" if preview else "roster_sync", tags=tags)
    report(summarize(result, district, year), home, as_json)


def report(summary: dict, home: str, as_json: bool) -> None:
    """Print a sync's summary and exit with its status: 0 in production, 3 held, 1 otherwise."""
    if as_json:
        emit_json({k: v for k, v in summary.items() if k != "checks"})
    else:
        _print_summary(summary, home)
    if summary["status"] == "held":
        raise SystemExit(HELD_EXIT_CODE)
    if summary["status"] != "successfully in production":
        raise SystemExit(1)


def _print_summary(s: dict, home: str) -> None:
    click.echo(f"{s['district']} {s['school_year']}: {s['status']}" + (f" (version {s['version']})" if s["version"] else ""))
    for entity, c in s["changes"].items():
        if any(c.values()):
            click.echo(f"  {entity:18} +{c['added']:<7} ~{c['updated']:<7} -{c['deleted']}")
    if s["filtered"]:
        click.echo("  rows left out (dangling references): "
                   + ", ".join(f"{f} {n}" for f, n in s["filtered"].items()))
        refs = s["checks"].get("references_resolve", {}).get("metadata", {})
        for row in (refs.get("findings") or [])[:5]:
            click.echo(f"    {row['file']}:{row['line']} {row['column']}={row['value']!r}: {row['message']}")
    if s["status"] == "held":
        for reason in s["hold_reasons"]:
            click.echo(f"  held: {reason}")
        click.echo(f"  approve: passport approve {s['district']} {s['version']} --school-year {s['school_year']} "
                   "--by EMAIL   (or reject)")
    duplicates = s.get("duplicates") or {}
    if duplicates.get("merged") or duplicates.get("pending"):
        click.echo(f"  duplicate people: {duplicates['merged']} merged, {duplicates['new_cases']} new case(s) to "
                   f"review, {duplicates['pending']} pending (passport duplicates list {s['district']})")
    for path in s["deliveries"]:
        click.echo(f"  delivered: {path}")
    for name in s["failed_checks"]:
        check = s["checks"][name]["metadata"]
        click.echo(f"  check {name} failed: {check.get('total')} finding(s)", err=True)
        for row in (check.get("findings") or [])[:20]:
            click.echo(f"    {row['file']}:{row['line']} {row['column'] or ''} [{row['rule']}] {row['message']}", err=True)
    for err in s["errors"]:
        if not s["failed_checks"]:
            click.echo(f"  {err}", err=True)
    click.echo(f"run {s['run_id']} — see it in the Dagster UI: DAGSTER_HOME={home} dagster dev -w workspace.yaml")
