"""passport history: the versions of a district, newest last."""

from __future__ import annotations

import click

from passport_pipelines import settings
from passport_pipelines.cli.output import emit_json
from passport_pipelines.store.golden_store import GoldenStore


@click.command("history")
@click.argument("district")
@click.option("--school-year", help="Only this school year.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def history(district: str, school_year: str | None, as_json: bool) -> None:
    """List DISTRICT's versions with status and change counts."""
    store = GoldenStore(settings.database_url())
    versions = store.versions(district, school_year)
    if as_json:
        emit_json({"district": district, "versions": [v.as_dict() for v in versions]})
        return
    if not versions:
        click.echo(f"no versions for {district}")
        return
    for v in versions:
        totals = {k: sum(c[k] for c in v.changes.values()) for k in ("added", "updated", "deleted")}
        click.echo(f"{v.school_year} v{v.number:<4} {v.status:28} {v.committed_at:%Y-%m-%d %H:%M} "
                   f"{v.committed_by:20} +{totals['added']} ~{totals['updated']} -{totals['deleted']}")
