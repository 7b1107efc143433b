"""passport validate: check a drop before uploading it, without committing anything."""

from __future__ import annotations

from pathlib import Path

import click

from passport_pipelines.cli.output import emit_json
from passport_pipelines.csv_schemas.registry import SCHEMAS
from passport_pipelines.model.school_years import SchoolYear
from passport_pipelines.oneroster_csv.validation import validate_package


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
    """Validate the CSV folder or zip at PATH against its schema; exit 1 if the drop would fail."""
    drop = validate_package(path, schema, school_year=school_year)
    if as_json:
        emit_json({"path": str(path), "schema": schema, "school_year": school_year, "ok": drop.ok, "rows": drop.rows,
                   "filtered": {k: v for k, v in drop.filtered.items() if v}, **drop.report.to_dict()})
    else:
        for_year = f", school year {school_year}" if school_year else ""
        click.echo(f"{path} ({schema}{for_year}): {'OK' if drop.ok else 'FAILS'}")
        click.echo(drop.report.render())
    if not drop.ok:
        raise SystemExit(1)
