"""passport validate: check a drop before uploading it, without committing anything."""

from __future__ import annotations

from pathlib import Path

import click

from passport_pipelines.cli.output import emit_json
from passport_pipelines.csv_schemas.registry import SCHEMAS
from passport_pipelines.oneroster_csv.validation import validate_package


@click.command("validate")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--schema", type=click.Choice(list(SCHEMAS)), default="oneroster-1.1", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def validate(path: Path, schema: str, as_json: bool) -> None:
    """Validate the CSV folder or zip at PATH against its schema; exit 1 if the drop would fail."""
    drop = validate_package(path, schema)
    if as_json:
        emit_json({"path": str(path), "schema": schema, "ok": drop.ok, "rows": drop.rows,
                   "filtered": {k: v for k, v in drop.filtered.items() if v}, **drop.report.to_dict()})
    else:
        click.echo(f"{path} ({schema}): {'OK' if drop.ok else 'FAILS'}")
        click.echo(drop.report.render())
    if not drop.ok:
        raise SystemExit(1)
