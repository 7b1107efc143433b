"""passport templates: the downloadable template of a CSV schema (header-only CSVs + a column guide)."""

from __future__ import annotations

from pathlib import Path

import click

from passport_pipelines.cli.output import emit_json, fail
from passport_pipelines.validation.schemas.registry import SCHEMAS
from passport_pipelines.validation.schemas.templates import write_template


@click.command("templates")
@click.option("--schema", "schema", required=True, metavar="NAME",
              help=f"The CSV schema: {', '.join(SCHEMAS)}.")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The zip file to write, e.g. basic-identity-template.zip.")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def templates(schema: str, out: Path, as_json: bool) -> None:
    """Write the template of a CSV schema to a zip: one header-only CSV per file (and manifest.csv
    for OneRoster), plus README.md describing every column."""
    if schema not in SCHEMAS:
        fail(f"unknown schema {schema!r}; choose one of: {', '.join(SCHEMAS)}")
    files = write_template(schema, out)
    if as_json:
        emit_json({"schema": schema, "out": str(out), "files": files})
    else:
        click.echo(f"{out}: {schema} template ({', '.join(files)})")
