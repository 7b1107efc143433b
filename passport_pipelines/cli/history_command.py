"""passport history / download: the versions of a district, and the original files of one."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from passport_pipelines import settings
from passport_pipelines.artifacts.folder_zip import write_folder_zip
from passport_pipelines.cli.api_clients_command import usage_lines
from passport_pipelines.cli.output import emit_json, fail
from passport_pipelines.delivery.writeback.report import history_json, history_lines
from passport_pipelines.normalize.rules.counts import rule_lines
from passport_pipelines.rest_provider.usage import usage_of
from passport_pipelines.store.golden_store import GoldenStore, Version
from passport_pipelines.store.sync_holds import DecisionError, SyncHolds


def _when(t) -> str:
    return f"{t:%Y-%m-%d %H:%M}" if t else "-"


def _delivery(d: dict) -> dict:
    return {"destination": d["destination"], "format": d["format"], "status": d["status"], "path": d["path"],
            "rows": d["rows"], "checksum": d["checksum"], "error": d["error"],
            "delivered_at": d["delivered_at"].isoformat() if d["delivered_at"] else None}


def _entity_counts(v: Version) -> str:
    return ", ".join(f"{e} +{c['added']} ~{c['updated']} -{c['deleted']}"
                     for e, c in v.changes.items() if any(c.values())) or "no changes"


@click.command("history")
@click.argument("district")
@click.option("--school-year", help="Only this school year.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def history(district: str, school_year: str | None, as_json: bool) -> None:
    """List DISTRICT's versions: status, started and committed at, by whom, mode, changes per entity."""
    store = GoldenStore(settings.database_url())
    versions = store.versions(district, school_year)
    if as_json:
        emit_json({"district": district, "versions": [
            {**v.as_dict(), "deliveries": [_delivery(d) for d in store.deliveries(v.id)],
             "writeback": history_json(store, v.id)} for v in versions],
            "api_usage": usage_of(store, district)})
        return
    if not versions:
        click.echo(f"no versions for {district}")
        return
    click.echo(f"{'year':9} {'version':7} {'status':26} {'started':16} {'committed':16} {'by':22} mode")
    for v in versions:
        mode = v.mode + (", no deletions" if any(e.get("deletions") is False for e in v.sources.values()) else "")
        click.echo(f"{v.school_year:9} v{v.number:<6} {v.status:26} {_when(v.started_at):16} "
                   f"{_when(v.committed_at):16} {v.committed_by:22} {mode}")
        click.echo(f"{'':18}{_entity_counts(v)}")
        for line in rule_lines({name: entry["rules"] for name, entry in v.sources.items() if entry.get("rules")}):
            click.echo(f"{'':18}rules {line}")
        if v.hold:
            for reason in v.hold.get("reasons", []):
                click.echo(f"{'':18}held: {reason}")
        if v.decided_by:
            click.echo(f"{'':18}{'approved' if v.status != 'rejected' else 'rejected'} by {v.decided_by} "
                       f"{_when(v.decided_at)}".rstrip())
        for d in store.deliveries(v.id):
            rows = sum((d["rows"] or {}).values())
            detail = d["error"] if d["status"] in ("failed", "expired") else \
                f"{rows} rows, sha256 {(d['checksum'] or '-')[:12]}"
            click.echo(f"{'':18}-> {d['destination']} ({d['format']}) {d['status']} {_when(d['delivered_at'])} "
                       f"{d['path'] or ''} [{detail}]")
        for line in history_lines(store, v.id):
            click.echo(f"{'':18}{line}")
    # What the apps reading the REST provider read (passport serve), per client and school year.
    usage = [u for u in usage_of(store, district) if not school_year or u["school_year"] == school_year]
    for line in usage_lines(usage):
        click.echo(line)


@click.command("download")
@click.argument("district")
@click.argument("version", type=int)
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the files into (created; must be empty if it exists).")
@click.option("--zip", "zip_path", type=click.Path(dir_okay=False, path_type=Path),
              help="A zip file to write instead (must not exist yet).")
@click.option("--school-year", help="default: the latest school year with versions.")
def download(district: str, version: int, out: Path | None, zip_path: Path | None, school_year: str | None) -> None:
    """Copy the original files of DISTRICT's VERSION, as the sync received them, into OUT (or one zip):
    one folder per source, with its validation report."""
    if (out is None) == (zip_path is None):
        fail("give --out FOLDER or --zip FILE.zip (one of them)")
    store = GoldenStore(settings.database_url())
    if school_year is None:
        years = sorted({v.school_year for v in store.versions(district)})
        if not years:
            fail(f"no versions for {district}")
        school_year = years[-1]
    try:
        found = SyncHolds(store).find(district, school_year, version)
    except DecisionError as exc:
        fail(str(exc))
    archive = Path(found.archive_path) if found.archive_path else None
    if archive is None or not archive.is_dir():
        fail(f"{district} {school_year} version {version}: its original files are no longer at {archive}")
    if zip_path is not None:
        if zip_path.exists():
            fail(f"{zip_path} exists already")
        files = write_folder_zip(archive, zip_path)
        click.echo(f"{district} {school_year} version {version}: {files} file(s) written to {zip_path}")
        return
    if out.exists() and any(out.iterdir()):
        fail(f"{out} is not empty")
    shutil.copytree(archive, out, dirs_exist_ok=True)
    files = sum(1 for p in out.rglob("*") if p.is_file())
    click.echo(f"{district} {school_year} version {version}: {files} file(s) written to {out}")
