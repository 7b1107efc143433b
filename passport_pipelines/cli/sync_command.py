"""passport sync: one district's school year through the Dagster job, in this process."""

from __future__ import annotations

import getpass
import logging

import click

from passport_pipelines.cli.environment import prepare_dagster_home
from passport_pipelines.cli.output import emit_json, fail
from passport_pipelines.config.loader import IntegrationError, load_district


def run_sync(district: str, school_year: str, committed_by: str, log_level: str = "WARNING"):
    """Launch the roster_sync job for one partition against the instance in DAGSTER_HOME."""
    import dagster as dg

    from passport_pipelines.assets.golden_records import COMMITTED_BY_TAG
    from passport_pipelines.definitions import defs
    from passport_pipelines.jobs import ROSTER_SYNC
    from passport_pipelines.partitions import district_partitions, sync_partition_key

    instance = dg.DagsterInstance.get()
    if not instance.has_dynamic_partition(district_partitions.name, district):
        instance.add_dynamic_partitions(district_partitions.name, [district])
    job = defs.resolve_job_def(ROSTER_SYNC)
    return job.execute_in_process(
        instance=instance,
        partition_key=sync_partition_key(district, school_year),
        tags={COMMITTED_BY_TAG: committed_by, "passport/district": district},
        # The run's full event log is in the instance (and the UI); the terminal gets the summary.
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        raise_on_error=False,
    )


def summarize(result, district: str, school_year: str) -> dict:
    """The sync's outcome from the run's events: version, changes, filtered rows, files."""
    outputs = {}
    for node in ("source_extracts", "golden_records", "duplicate_review_queue", "oneroster_exports"):
        try:
            outputs[node] = result.output_for_node(node)
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
    if version is None:
        status = "failed validation" if failed_checks else "failed"
    else:
        status = "propagation failed" if outputs["oneroster_exports"] is None else "successfully in production"
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
        "deliveries": [d["path"] for d in deliveries],
        "duplicates": outputs["duplicate_review_queue"] or {},
        "failed_checks": failed_checks,
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
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def sync(district: str, school_year: str | None, as_json: bool) -> None:
    """Run a full sync of DISTRICT: validate, normalize, commit a version, deliver."""
    try:
        integration = load_district(district)
    except IntegrationError as exc:
        fail(str(exc))
    year = school_year or max(integration.school_years)
    if year not in integration.school_years:
        fail(f"{year} is not one of {district}'s school years: {', '.join(integration.school_years)}")
    home = prepare_dagster_home()
    verbose = logging.getLogger().isEnabledFor(logging.INFO)
    result = run_sync(district, year, committed_by=f"cli:{getpass.getuser()}", log_level="INFO" if verbose else "WARNING")
    summary = summarize(result, district, year)
    if as_json:
        emit_json({k: v for k, v in summary.items() if k != "checks"})
    else:
        _print_summary(summary, home)
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
