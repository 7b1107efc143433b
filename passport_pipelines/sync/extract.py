"""Stage 1, source extracts: fetch each source's drop, archive it as received, validate it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from passport_pipelines.artifacts.fingerprints import code_fingerprint, combine, file_digest, read_stamp, write_stamp
from passport_pipelines.artifacts.layout import intermediate_dir, originals_dir
from passport_pipelines.artifacts.table_sets import write_table_set
from passport_pipelines.config.integration import Integration
from passport_pipelines.config.sources import CsvFolderSource, SftpSource
from passport_pipelines.connectors.base import ExtractRequest, SourceConnector
from passport_pipelines.credentials.cipher import current_key
from passport_pipelines.credentials.landing import secret_landing, sweep_abandoned_landings
from passport_pipelines.credentials.seal import seal_credentials
from passport_pipelines.csv_schemas.registry import CsvSchema, csv_schema
from passport_pipelines.drops.errors import DropFetchError
from passport_pipelines.drops.sftp import download_sftp_drop
from passport_pipelines.file_modes import copy_privately
from passport_pipelines.oneroster_csv.findings import Finding, FindingsReport
from passport_pipelines.oneroster_csv.validation import validate_package
from passport_pipelines.store.golden_store import GoldenStore


@dataclass
class SourceExtract:
    source: str
    schema: str
    upload_mode: str
    folder: str  # validated tables (Parquet), one per file
    archive: str  # the original files as received
    file_modes: dict[str, str]
    rows: dict[str, int]
    filtered: dict[str, int]
    ok: bool
    fingerprint: str | None = None  # set when the validated tables depend on the drop's files alone
    reused: bool = False  # the drop was byte-identical to the last one: its validation was reused
    kind: str = "oneroster_csv"  # the folder of SQL models in dbt_like_transforms/ that maps its tables
    source_type: str = "csv"
    cursor: dict | None = None  # where the next incremental pull of an API source starts
    requests: int = 0
    retries: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def fetch_drop(integration: Integration, source: CsvFolderSource | SftpSource, archive: Path) -> Path:
    """Copy (or download) the drop into ``archive``; returns what to validate there."""
    archive.mkdir(parents=True, exist_ok=True)
    if isinstance(source, SftpSource):
        files = download_sftp_drop(source, integration, archive)
        zips = [f for f in files if f.suffix.lower() == ".zip"]
        return zips[0] if zips else archive
    origin = integration.resolve_path(source.path)
    if origin.is_dir():
        for item in origin.iterdir():
            if item.is_file() and item.suffix.lower() == ".csv":
                copy_privately(item, archive / item.name)
        return archive
    if origin.is_file():
        target = archive / origin.name
        copy_privately(origin, target)
        return target
    raise DropFetchError(f"source {source.name}: {origin} does not exist (expected a folder of CSVs or a .zip)")


def extract_source(integration: Integration, source: CsvFolderSource | SftpSource, *, school_year: str,
                   run_id: str, store: GoldenStore) -> tuple[SourceExtract, FindingsReport]:
    archive = originals_dir(integration.district, school_year, run_id) / source.name
    definition = csv_schema(source.schema_)
    sweep_abandoned_landings()  # plain-text secrets a killed sync left behind
    if not definition.holds_secrets:
        return _extract(integration, source, definition, landing=archive, archive=archive, school_year=school_year,
                        store=store)
    # A drop of secrets lands in a private folder of its own, removed whatever happens (see
    # credentials.landing); the archive only ever gets its sealed copy. Without a usable key it is
    # not even fetched.
    current_key()
    with secret_landing(run_id, source.name) as landing:
        return _extract(integration, source, definition, landing=landing, archive=archive,
                        school_year=school_year, store=store)


def _extract(integration: Integration, source: CsvFolderSource | SftpSource, definition: CsvSchema, *,
             landing: Path, archive: Path, school_year: str, store: GoldenStore) -> tuple[SourceExtract, FindingsReport]:
    district = integration.district
    try:
        drop_path = fetch_drop(integration, source, landing)
    except DropFetchError as exc:
        report = FindingsReport()
        report.add(Finding(source.name, None, None, None, "drop.fetch", "error", str(exc)))
        return SourceExtract(source.name, source.schema_, source.mode, "", str(archive), {}, {}, {}, False,
                             kind=definition.kind), report

    folder = intermediate_dir("source_extracts", district, school_year) / source.name
    fingerprint = None
    # Secrets are re-sealed every time (under the current key), never reused from an earlier sync.
    if source.mode == "full" and not definition.holds_secrets:
        # In full mode validation reads nothing but the files (delta files bring ids on record
        # into play, and those change the fingerprint's meaning): safe to reuse when identical.
        files = sorted(p for p in archive.rglob("*") if p.is_file() and p.name != "validation_report.json")
        fingerprint = combine("source_extracts", code_fingerprint(), source.schema_, source.mode,
                              [(p.relative_to(archive).as_posix(), file_digest(p)) for p in files])
        stamp = read_stamp(folder)
        if stamp and stamp.get("fingerprint") == fingerprint and "delta" not in stamp["extract"]["file_modes"].values():
            report = FindingsReport.from_json(stamp["report"])
            (archive / "validation_report.json").write_text(json.dumps(report.to_dict(), indent=1), encoding="utf-8")
            extract = SourceExtract(**{**stamp["extract"], "archive": str(archive), "reused": True})
            return extract, report

    def known_keys(file: str, mode: str) -> pa.Array | None:
        entity = definition.file_entity.get(file)
        if entity is None or entity == "user_profiles" or (mode == "bulk" and source.mode == "full"):
            return None
        keys = store.stored_keys(district, school_year, entity, [source.name])
        return keys.filter(pc.field("active")).column("sourced_id").combine_chunks()

    drop = validate_package(drop_path, source.schema_, known_keys=known_keys)
    if drop.ok and definition.holds_secrets:
        seal_credentials(drop, district=district, school_year=school_year, archive=archive)
    archive.mkdir(parents=True, exist_ok=True)
    (archive / "validation_report.json").write_text(json.dumps(drop.report.to_dict(), indent=1), encoding="utf-8")
    extract = SourceExtract(
        source=source.name, schema=source.schema_, upload_mode=source.mode, folder=str(folder), archive=str(archive),
        file_modes=drop.modes, rows=drop.rows, filtered={k: v for k, v in drop.filtered.items() if v}, ok=drop.ok,
        fingerprint=fingerprint if drop.ok and "delta" not in drop.modes.values() else None, kind=definition.kind,
    )
    if drop.ok:
        write_table_set(drop.con, folder, {name: name for name in drop.present})
        if extract.fingerprint:
            write_stamp(folder, {"fingerprint": fingerprint, "extract": extract.as_dict(),
                                 "report": drop.report.to_json()})
    drop.con.close()
    return extract, drop.report


def previous_cursor(store: GoldenStore, district: str, school_year: str, source: str) -> dict | None:
    """The cursor of the source's extract in the last committed version, if there is one."""
    version = store.latest_version(district, school_year)
    entry = (version.sources or {}).get(source) if version else None
    return (entry or {}).get("cursor") or None


def extract_api_source(integration: Integration, source, connector: SourceConnector, *, school_year: str,
                       run_id: str, store: GoldenStore) -> SourceExtract:
    """Fetch an API source into raw tables in the sync's archive. A failure raises
    ``ConnectorError``: the run fails before anything is committed."""
    archive = originals_dir(integration.district, school_year, run_id) / source.name
    cursor = None
    if source.mode == "incremental":
        cursor = previous_cursor(store, integration.district, school_year, source.name)
    result = connector.extract(ExtractRequest(integration=integration, source=source, school_year=school_year,
                                              folder=archive, cursor=cursor))
    upload_mode = "incremental" if "delta" in result.entity_modes.values() else "full"
    return SourceExtract(
        source=source.name, schema=source.type, upload_mode=upload_mode, folder=str(archive), archive=str(archive),
        file_modes=result.entity_modes, rows=result.tables, filtered={}, ok=True, kind=connector.models,
        source_type=source.type, cursor=result.cursor, requests=result.requests, retries=result.retries,
    )
