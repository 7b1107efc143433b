"""passport test-connection: can the hub reach a district's sources, and do the credentials work?"""

from __future__ import annotations

import click

from passport_pipelines.cli.output import emit_json, fail
from passport_pipelines.config.loader import IntegrationError, load_district
from passport_pipelines.sources.errors import HINTS
from passport_pipelines.validation.connection_checks import check_sources


@click.command("test-connection")
@click.argument("district")
@click.option("--source", "source_name", help="Only this source (its name in the integration file).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def test_connection(district: str, source_name: str | None, as_json: bool) -> None:
    """Check reachability and credentials of DISTRICT's sources; exit 1 when one fails."""
    try:
        integration = load_district(district)
        checks = check_sources(integration, source_name)
    except IntegrationError as exc:
        fail(str(exc))
    except KeyError as exc:
        fail(str(exc.args[0]))
    if as_json:
        emit_json({"district": district, "ok": all(c.ok for c in checks), "sources": [c.as_dict() for c in checks]})
    else:
        for c in checks:
            state = "ok" if c.ok else f"FAILED: {c.failure.replace('_', ' ')}"
            click.echo(f"{district} / {c.source} ({c.type}): {state}")
            for step in c.steps:
                click.echo(f"  {'ok ' if step.ok else 'ERR'} {step.name}: {step.detail}")
            if not c.ok:
                click.echo(f"  hint: {HINTS[c.failure]}")
    if not all(c.ok for c in checks):
        raise SystemExit(1)
