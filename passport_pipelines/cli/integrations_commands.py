"""passport integrations new|list."""

from __future__ import annotations

from pathlib import Path

import click
import yaml

from passport_pipelines import settings
from passport_pipelines.cli.output import emit_json, fail
from passport_pipelines.config.integration import SLUG
from passport_pipelines.config.loader import IntegrationError, load_all, load_integration

SOURCE_KEYS = {
    "csv": {"path", "schema", "mode"},
    "sftp": {"host", "port", "username", "password", "private_key", "private_key_passphrase", "remote_path",
             "known_hosts", "host_key", "schema", "mode"},
}


@click.group("integrations")
def integrations() -> None:
    """Create and list district integration files."""


@integrations.command("new")
@click.argument("district")
@click.option("--source", "source_type", type=click.Choice(sorted(SOURCE_KEYS)), required=True,
              help="Connector type of the first source.")
@click.option("--set", "settings_", multiple=True, metavar="KEY=VALUE", help="A source setting, e.g. path=/drops/x.")
@click.option("--name", "display_name", help="District display name (default: the district id).")
@click.option("--school-year", "school_years", multiple=True, help="School year(s) to sync, e.g. 2025-2026.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def new(district: str, source_type: str, settings_: tuple[str, ...], display_name: str | None,
        school_years: tuple[str, ...], force: bool) -> None:
    """Write a valid integration file for DISTRICT with sensible defaults."""
    if not SLUG.match(district):
        fail(f"district {district!r} must be a slug: lower-case letters, digits and hyphens")
    values: dict[str, object] = {}
    for item in settings_:
        key, sep, value = item.partition("=")
        if not sep:
            fail(f"--set {item!r}: expected KEY=VALUE")
        if key not in SOURCE_KEYS[source_type]:
            fail(f"--set {key}: not a {source_type} setting (known: {', '.join(sorted(SOURCE_KEYS[source_type]))})")
        if key in ("path", "known_hosts", "private_key"):
            # A path typed on the command line means from here, not from the integrations folder.
            value = str(Path(value).expanduser().resolve())
        values[key] = int(value) if key == "port" else value
    if source_type == "csv" and "path" not in values:
        fail("a csv source needs --set path=FOLDER_OR_ZIP")
    source = {"name": "sis_export" if source_type == "csv" else "sftp_drop", "type": source_type,
              **values}
    source.setdefault("schema", "oneroster-1.1")
    source.setdefault("mode", "full")
    year = _current_school_year()
    doc = {
        "district": district,
        "name": display_name or district,
        "state": "active",
        "sync_mode": "import",
        "school_years": list(school_years) or [year],
        "sources": [source],
        "destinations": [{"name": "oneroster_export", "type": "oneroster-1.1-csv",
                          "folder": str(settings.default_exports_dir(district))}],
    }
    folder = settings.integrations_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{district}.yaml"
    if path.exists() and not force:
        fail(f"{path} exists; pass --force to overwrite")
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    try:
        load_integration(path)
    except IntegrationError as exc:
        path.unlink()
        fail(str(exc))
    click.echo(f"wrote {path}")


def _current_school_year() -> str:
    from datetime import date
    today = date.today()
    start = today.year if today.month >= 7 else today.year - 1
    return f"{start}-{start + 1}"


@integrations.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(as_json: bool) -> None:
    """List the integration files and whether they are valid."""
    found, errors = load_all()
    rows = [{"district": i.district, "name": i.name, "state": i.state, "school_years": i.school_years,
             "sources": [{"name": s.name, "type": s.type, "schema": s.schema_, "mode": s.mode} for s in i.sources],
             "file": str(i.file)} for i in found.values()]
    if as_json:
        emit_json({"integrations": rows, "errors": errors})
    else:
        if not rows and not errors:
            click.echo(f"no integration files in {settings.integrations_dir()}")
        for r in rows:
            srcs = ", ".join(f"{s['name']} ({s['type']}, {s['schema']}, {s['mode']})" for s in r["sources"])
            click.echo(f"{r['district']:24} {r['state']:7} {','.join(r['school_years']):12} {srcs}")
        for e in errors:
            click.echo(f"invalid: {e}", err=True)
    if errors:
        raise SystemExit(1)
