"""Stage 1, source extracts: fetch each source's drop, archive it as received, validate it."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from passport_pipelines.artifacts.disk_space import writing
from passport_pipelines.artifacts.fingerprints import code_fingerprint, combine, file_digest, write_stamp
from passport_pipelines.artifacts.layout import originals_dir, stage_dir
from passport_pipelines.artifacts.reuse import link_reused, publish
from passport_pipelines.artifacts.table_sets import write_table_set
from passport_pipelines.config.integration import Integration
from passport_pipelines.config.package_limits import PackageLimits, size_text
from passport_pipelines.config.sources import CsvFolderSource, SftpSource
from passport_pipelines.sources.base import ExtractRequest, SourceConnector
from passport_pipelines.sources.drops.errors import DropFetchError
from passport_pipelines.sources.drops.locations import drop_for_year
from passport_pipelines.sources.drops.sftp import download_sftp_drop
from passport_pipelines.store.arrow_connection import const_array
from passport_pipelines.store.golden_store import GoldenStore
from passport_pipelines.validation.credentials.cipher import current_key
from passport_pipelines.validation.credentials.landing import secret_landing, sweep_abandoned_landings
from passport_pipelines.validation.credentials.seal import seal_credentials
from passport_pipelines.validation.oneroster.findings import Finding, FindingsReport
from passport_pipelines.validation.oneroster.package import Package, PackageError
from passport_pipelines.validation.oneroster.validation import ValidatedDrop, validate_package
from passport_pipelines.validation.schemas.registry import CsvSchema, csv_schema

STAGE = "source_extracts"
# Past this many ids a drop points at, reading all the keys on record is faster than a lookup of each.
LOOKUPS_AT_MOST = 200_000


_COPY_CHUNK = 1 << 20
# A full disk fails the run before its commit: the golden store is as it was.
_NOTHING_COMMITTED = "; nothing was committed: free space on that disk and run the sync again"


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
    school_year_scope: str = ""  # how an API extract was restricted to the sync's school year, or why not
    # Rows left out by references, per file and reason (``validation/oneroster/references.py``).
    left_out: dict[str, dict[str, int]] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class FetchedDrop:
    path: Path  # what to validate: the folder the drop was copied into, or the zip in it
    refused: list[Finding] = field(default_factory=list)  # entries left out: not the drop's own files


def fetch_drop(integration: Integration, source: CsvFolderSource | SftpSource, archive: Path,
               school_year: str) -> FetchedDrop:
    """Copy (or download) ``school_year``'s drop into ``archive``, within the source's limits.

    Only the drop's own files are copied: a CSV of a folder drop that is a link, a device, a FIFO or
    a socket is left out, unopened, and comes back in ``refused`` (validation/oneroster/own_files.py). The
    configured path itself may be a link: the integration file says where the drop is. Raises
    DropFetchError when there is no drop, PackageError when it is refused whole (too big)."""
    archive.mkdir(parents=True, exist_ok=True)
    where = f"source {source.name}, school year {school_year}"
    source = drop_for_year(source, school_year)
    limits = source.limits.package_limits()
    if isinstance(source, SftpSource):
        try:
            files = download_sftp_drop(source, integration, archive)
        except DropFetchError as exc:
            raise DropFetchError(f"{where}: {exc}") from None
        zips = [f for f in files if f.suffix.lower() == ".zip"]
        return FetchedDrop(zips[0] if zips else archive)
    origin = integration.resolve_path(source.path)
    if origin.is_dir():
        package = Package.open(origin, limits)
        package.copy_files(archive)
        return FetchedDrop(archive, package.refused)
    if origin.is_file():
        target = archive / origin.name
        _copy_zip(origin, target, limits)
        return FetchedDrop(target)
    raise DropFetchError(f"{where}: {origin} does not exist (expected a folder of CSVs or a .zip)")


def _copy_zip(origin: Path, target: Path, limits: PackageLimits) -> None:
    # A zip is smaller than what it unpacks to, so the total-size limit bounds the copy too.
    with origin.open("rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > limits.max_total_size:
            raise PackageError([Finding(origin.name, None, None, None, "package.too_large", "error",
                                        f"{origin.name} is {size_text(size)}, more than limits.max_total_size "
                                        f"({size_text(limits.max_total_size)}); it was not copied")])
        with target.open("wb") as out:
            shutil.copyfileobj(fh, out, _COPY_CHUNK)
    # The bytes and times, not the district folder's permissions: the copy is private.
    stat = os.stat(origin)
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def extract_source(integration: Integration, source: CsvFolderSource | SftpSource, *, school_year: str,
                   run_id: str, store: GoldenStore) -> tuple[SourceExtract, FindingsReport]:
    archive = originals_dir(integration.district, school_year, run_id) / source.name
    definition = csv_schema(source.schema_)
    sweep_abandoned_landings()  # plain-text secrets a killed sync left behind
    if not definition.holds_secrets:
        return _extract(integration, source, definition, landing=archive, archive=archive, school_year=school_year,
                        run_id=run_id, store=store)
    # A drop of secrets lands in a private folder of its own, removed whatever happens (see
    # credentials.landing); the archive only ever gets its sealed copy. Without a usable key it is
    # not even fetched.
    current_key()
    with secret_landing(run_id, source.name) as landing:
        return _extract(integration, source, definition, landing=landing, archive=archive,
                        school_year=school_year, run_id=run_id, store=store)


def _extract(integration: Integration, source: CsvFolderSource | SftpSource, definition: CsvSchema, *,
             landing: Path, archive: Path, school_year: str, run_id: str,
             store: GoldenStore) -> tuple[SourceExtract, FindingsReport]:
    district = integration.district
    try:
        with writing(f"the archive copy of source {source.name}'s drop", landing, release=archive.parent,
                     after=_NOTHING_COMMITTED):
            fetched = fetch_drop(integration, source, landing, school_year)
    except (DropFetchError, PackageError) as exc:
        report = FindingsReport()
        findings = exc.findings if isinstance(exc, PackageError) else [
            Finding(source.name, None, None, None, "drop.fetch", "error", str(exc))]
        for finding in findings:
            report.add(finding)
        return SourceExtract(source.name, source.schema_, source.mode, "", str(archive), {}, {}, {}, False,
                             kind=definition.kind), report

    folder = stage_dir(STAGE, district, school_year, run_id) / source.name
    fingerprint = None
    # Secrets are re-sealed every time (under the current key), never reused from an earlier sync.
    if source.mode == "full" and not definition.holds_secrets:
        # In full mode validation reads nothing but the files (delta files bring ids on record
        # into play, and those change the fingerprint's meaning): safe to reuse when identical.
        files = sorted(p for p in archive.rglob("*") if p.is_file() and p.name != "validation_report.json")
        fingerprint = combine("source_extracts", code_fingerprint(), source.schema_, source.mode, school_year,
                              source.limits, [(p.relative_to(archive).as_posix(), file_digest(p)) for p in files],
                              [f.as_row() for f in fetched.refused])
        stamp = link_reused(STAGE, district, school_year, source.name, fingerprint, folder)
        if stamp and "delta" not in stamp["extract"]["file_modes"].values():
            report = FindingsReport.from_json(stamp["report"])
            (archive / "validation_report.json").write_text(json.dumps(report.to_dict(), indent=1), encoding="utf-8")
            extract = SourceExtract(**{**stamp["extract"], "folder": str(folder), "archive": str(archive),
                                       "reused": True})
            return extract, report

    def known_keys(file: str, mode: str, wanted) -> pa.Array | None:
        entity = definition.file_entity.get(file)
        if entity is None or entity == "user_profiles" or (mode == "bulk" and source.mode == "full"):
            return None
        ids = wanted()
        # The records the drop points at, looked up one by one, unless they are so many that reading every
        # key is faster (a delta of users points at 40,000 of 2 million users on record).
        only = pa.table({"source": const_array(source.name, len(ids)), "sourced_id": ids}) \
            if len(ids) <= LOOKUPS_AT_MOST else None
        keys = store.stored_keys(district, school_year, entity, [source.name], only=only)
        return keys.filter(pc.field("active")).column("sourced_id").combine_chunks()

    drop = validate_package(fetched.path, source.schema_, known_keys=known_keys,
                            limits=source.limits.package_limits(), refused=fetched.refused,
                            school_year=school_year)
    try:
        return _keep(drop, source, definition, archive=archive, folder=folder, fingerprint=fingerprint,
                     district=district, school_year=school_year)
    finally:
        drop.con.close()


def _keep(drop: ValidatedDrop, source: CsvFolderSource | SftpSource, definition: CsvSchema, *, archive: Path,
          folder: Path, fingerprint: str | None, district: str, school_year: str
          ) -> tuple[SourceExtract, FindingsReport]:
    """Write the validation's outcome: its report in the archive, and the usable rows as Parquet."""
    with writing(f"source {source.name}'s validation report", archive, release=archive.parent,
                 after=_NOTHING_COMMITTED):
        if drop.ok and definition.holds_secrets:
            seal_credentials(drop, district=district, school_year=school_year, archive=archive)
        archive.mkdir(parents=True, exist_ok=True)
        (archive / "validation_report.json").write_text(json.dumps(drop.report.to_dict(), indent=1),
                                                        encoding="utf-8")
    extract = SourceExtract(
        source=source.name, schema=source.schema_, upload_mode=source.mode, folder=str(folder), archive=str(archive),
        file_modes=drop.modes, rows=drop.rows, filtered={k: v for k, v in drop.filtered.items() if v}, ok=drop.ok,
        left_out=drop.left_out,
        fingerprint=fingerprint if drop.ok and "delta" not in drop.modes.values() else None, kind=definition.kind,
    )
    if drop.ok:
        with writing(f"source {source.name}'s validated tables", folder, release=archive.parent,
                     after=_NOTHING_COMMITTED):
            write_table_set(drop.con, folder, {name: name for name in drop.present})
            if extract.fingerprint:
                write_stamp(folder, {"fingerprint": fingerprint, "extract": extract.as_dict(),
                                     "report": drop.report.to_json()})
                publish(STAGE, district, school_year, source.name, fingerprint, folder)
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
        school_year_scope=result.school_year_scope,
    )
