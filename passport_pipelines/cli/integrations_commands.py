"""passport integrations new|list."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import click
import yaml
from pydantic.fields import FieldInfo

from passport_pipelines import settings
from passport_pipelines.cli.output import emit_json, fail
from passport_pipelines.config.integration import SLUG, Integration
from passport_pipelines.config.loader import IntegrationError, load_all, load_integration
from passport_pipelines.config.sources import SOURCE_TYPES
from passport_pipelines.jobs.scheduling.due_times import first_day_due, next_due
from passport_pipelines.jobs.scheduling.first_days import school_year_first_days
from passport_pipelines.store.golden_store import GoldenStore

DEFAULT_SOURCE_NAMES = {"csv": "sis_export", "sftp": "sftp_drop", "powerschool": "powerschool",
                        "oneroster": "oneroster", "synergy": "synergy", "xpress": "xpress", "google": "google_workspace"}
# Settings that name a file: typed on the command line, they mean from here, not from the integrations folder.
PATH_KEYS = {"path", "known_hosts", "private_key", "ca_bundle"}


def source_keys(source_type: str) -> dict[str, FieldInfo]:
    """The settings a source type accepts (its pydantic fields, by the name used in the file)."""
    model = SOURCE_TYPES[source_type]
    return {(f.alias or n): f for n, f in model.model_fields.items() if n not in ("name", "type")}


def _value(key: str, raw: str, field: FieldInfo):
    """A --set value in the shape the file wants: lists comma-separated, mappings as a=b,c=d.
    A setting that is a value or a mapping (a drop's path: one location, a template, or one
    location per school year) is a mapping only when written as one."""
    shape = repr(field.annotation)
    if "dict[" in shape and ("=" in raw or shape.startswith("dict[")):
        pairs = [p.partition("=") for p in raw.split(",") if p]
        return {k.strip(): (str(Path(v.strip()).expanduser().resolve()) if key in PATH_KEYS else v.strip())
                for k, _, v in pairs}
    if "list[" in shape:
        items = [v.strip() for v in raw.split(",") if v.strip()]
        return [int(v) if "list[int]" in shape and v.isdigit() else v for v in items]
    if key in PATH_KEYS:
        return str(Path(raw).expanduser().resolve())
    if "int" in shape and raw.isdigit():
        return int(raw)
    if "float" in shape:
        try:
            return float(raw)
        except ValueError:
            return raw
    return raw


@click.group("integrations")
def integrations() -> None:
    """Create and list district integration files."""


@integrations.command("new")
@click.argument("district")
@click.option("--source", "source_type", type=click.Choice(sorted(SOURCE_TYPES)), required=True,
              help="Connector type of the first source.")
@click.option("--set", "settings_", multiple=True, metavar="KEY=VALUE",
              help="A source setting, e.g. base_url=https://sis.example.org or client_secret=env:SIS_SECRET.")
@click.option("--source-name", help="Name of the source in the file (default: after its type).")
@click.option("--name", "display_name", help="District display name (default: the district id).")
@click.option("--school-year", "school_years", multiple=True, help="School year(s) to sync, e.g. 2025-2026.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def new(district: str, source_type: str, settings_: tuple[str, ...], source_name: str | None,
        display_name: str | None, school_years: tuple[str, ...], force: bool) -> None:
    """Write a valid integration file for DISTRICT with sensible defaults.

    Every type's keys are listed in docs/configuration.md; secrets are env:VAR references."""
    if not SLUG.match(district):
        fail(f"district {district!r} must be a slug: lower-case letters, digits and hyphens")
    keys = source_keys(source_type)
    values: dict[str, object] = {}
    for item in settings_:
        key, sep, value = item.partition("=")
        if not sep:
            fail(f"--set {item!r}: expected KEY=VALUE")
        if key not in keys:
            fail(f"--set {key}: not a {source_type} setting (known: {', '.join(sorted(keys))})")
        values[key] = _value(key, value, keys[key])
    missing = [k for k, f in keys.items() if f.is_required() and k not in values]
    if missing:
        fail(f"a {source_type} source needs " + " ".join(f"--set {k}=..." for k in missing))
    source = {"name": source_name or DEFAULT_SOURCE_NAMES[source_type], "type": source_type, **values}
    if source_type in ("csv", "sftp"):
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
    """List the integrations: type, name, source, target, state, last run and next run."""
    found, errors = load_all()
    now = datetime.now(timezone.utc)
    store = GoldenStore(settings.database_url()) if found else None
    first_days = school_year_first_days(store, list(found)) if store else {}
    rows = [_row(i, store, now, first_days.get(i.district, {})) for i in found.values()]
    if as_json:
        emit_json({"integrations": rows, "errors": errors})
        return
    if not rows and not errors:
        click.echo(f"no integration files in {settings.integrations_dir()}")
    if rows:
        click.echo(f"{'district':20} {'type':7} {'name':22} {'source':28} {'target':22} {'state':28} "
                   f"{'last run':44} next run")
    for r in rows:
        sources = ", ".join(f"{s['name']} ({s['type']})" for s in r["sources"])
        last = r["last_run"]
        last_text = f"{last['at'][:16].replace('T', ' ')} v{last['version']} {last['status']}" if last else "never"
        first_day = f" (first day of school: {r['first_day_sync']})" if r["first_day_sync"] else ""
        click.echo(f"{r['district']:20} {r['type']:7} {r['name'][:22]:22} {sources[:28]:28} "
                   f"{', '.join(r['targets'])[:22]:22} {r['state']:28} {last_text:44} {r['next_run'] or '-'}"
                   f"{first_day}")
    for error in errors:
        click.echo(f"invalid: {error}", err=True)


def _next_first_day(i: Integration, first_days: dict, now: datetime, state: str) -> str | None:
    """The next first-day-of-school sync still ahead, as its school years' calendars on record give it."""
    if state != "active":
        return None
    ahead = [m for m in (first_day_due(i.schedule, d) for y, d in first_days.items() if y in i.school_years)
             if m is not None and m > now and not i.schedule.expired(m)]
    return min(ahead).isoformat(timespec="minutes") if ahead else None


def _row(i: Integration, store: GoldenStore | None, now: datetime, first_days: dict | None = None) -> dict:
    versions = sorted(store.versions(i.district), key=lambda v: v.started_at or v.committed_at) if store else []
    last = versions[-1] if versions else None
    schedule = i.schedule
    today = now.astimezone(schedule.zone).date()
    if i.state == "paused":
        state = "paused"
    elif i.pause is not None and i.pause.covers(today):
        state = f"paused until {i.pause.until}"
    elif schedule.expired(now):
        state = f"schedule expired {schedule.until}"
    else:
        state = "active"
    upcoming = next_due(schedule, now) if state == "active" else None
    if upcoming is None and schedule.on_new_drop and state == "active":
        next_run = "on a new drop"
    else:
        next_run = upcoming.isoformat(timespec="minutes") if upcoming else None
    return {
        "district": i.district, "name": i.name, "type": i.sync_mode, "state": state,
        "school_years": i.school_years,
        "sources": [{"name": s.name, "type": s.type, "mode": s.mode, "schema": getattr(s, "schema_", None),
                     "url": getattr(s, "base_url", None)} for s in i.sources],
        "targets": [f"{d.name} ({d.type})" for d in i.destinations],
        "last_run": {"version": last.number, "school_year": last.school_year, "status": last.status,
                     "at": (last.started_at or last.committed_at).isoformat()} if last else None,
        "next_run": next_run,
        "first_day_sync": _next_first_day(i, first_days or {}, now, state),
        "schedule": schedule.model_dump(mode="json"),
        "file": str(i.file),
    }
