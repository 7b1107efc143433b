"""passport validate: check a drop before uploading it, without committing anything."""

from __future__ import annotations

from pathlib import Path

import click

from passport_pipelines.changes.drop_check import FAILS, check_drop
from passport_pipelines.cli.output import emit_json
from passport_pipelines.cli.sync_command import accounting_lines
from passport_pipelines.model.school_years import SchoolYear
from passport_pipelines.normalize.row_accounting import left_out_by_entity
from passport_pipelines.validation.schemas.registry import SCHEMAS


def _school_year(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        try:
            SchoolYear.parse(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    return value


@click.command("validate")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--schema", type=click.Choice(list(SCHEMAS)), default="oneroster-1.1", show_default=True)
@click.option("--school-year", callback=_school_year, metavar="YYYY-YYYY",
              help="The school year the drop is for, e.g. 2024-2025: a drop whose academic sessions are "
                   "another year's fails, as the sync refuses it. Not checked when not given.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def validate(path: Path, schema: str, school_year: str | None, as_json: bool) -> None:
    """Check the CSV folder or zip at PATH as a first sync of it would, without writing anything:
    validation, references, the mapping into the canonical model and its schema, and the rows each
    entity would deliver or leave out. The verdict is the sync's: FAILS (exit 1), HELD (the sync would
    wait for approval: rows are left out by references beyond the sync hold threshold; exit 0) or OK."""
    checked = check_drop(path, schema, school_year=school_year)
    drop = checked.drop
    try:
        if as_json:
            emit_json({"path": str(path), "schema": schema, "school_year": school_year, "ok": checked.verdict != FAILS,
                       "verdict": checked.verdict, "failed_checks": checked.failed_checks,
                       "hold_reasons": checked.hold_reasons, "rows": drop.rows,
                       "accounting": checked.accounting,
                       "left_out": left_out_by_entity(checked.accounting),
                       **drop.report.to_dict(),
                       "canonical_schema": {"total": checked.schema.total, "totals_by_rule": checked.schema.totals,
                                            "failures": checked.schema.records[:20]},
                       **({"error": checked.error} if checked.error else {})})
        else:
            for_year = f", school year {school_year}" if school_year else ""
            click.echo(f"{path} ({schema}{for_year}): {checked.verdict.upper() if checked.verdict != 'ok' else 'OK'}")
            click.echo(drop.report.render())
            for line in accounting_lines(checked.accounting):
                click.echo(f"  {line}")
            for reason in checked.hold_reasons:
                click.echo(f"  a sync would be held: {reason}")
            if checked.schema.total:
                click.echo(f"  check canonical_schema failed: {checked.schema.total} failure case(s): "
                           + ", ".join(f"{rule} {n}" for rule, n in checked.schema.totals.items()))
                for r in checked.schema.records[:20]:
                    click.echo(f"    {r['entity']}.{r['column']}: {r['check']} "
                               f"(value {r['failure_case']}, row {r['index']})")
            if checked.error:
                click.echo(f"  {checked.error}")
    finally:
        drop.con.close()
    if checked.verdict == FAILS:
        raise SystemExit(1)
