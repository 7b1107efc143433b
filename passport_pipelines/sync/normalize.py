"""Stage 2, normalized rosters: each source's validated tables mapped into the canonical model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from passport_pipelines.artifacts.fingerprints import combine, read_stamp, transforms_fingerprint, write_stamp
from passport_pipelines.artifacts.layout import intermediate_dir
from passport_pipelines.artifacts.table_sets import load_table_set, write_table_set
from passport_pipelines.oneroster_csv.findings import FindingsReport
from passport_pipelines.oneroster_csv.validation import ValidatedDrop
from passport_pipelines.sync.extract import SourceExtract
from passport_pipelines.transforms.engine import connect
from passport_pipelines import settings
from passport_pipelines.connectors.raw_tables import load_raw_tables
from passport_pipelines.connectors.registry import connector_class
from passport_pipelines.transforms.normalize import SOURCE_KIND, entity_modes, normalize_drop
from passport_pipelines.transforms.runner import run_models


@dataclass
class NormalizedSource:
    source: str
    upload_mode: str
    folder: str
    entity_modes: dict[str, str]
    rows: dict[str, int]
    fingerprint: str | None = None
    reused: bool = False


def normalize_source(extract: SourceExtract, *, district: str, school_year: str) -> NormalizedSource:
    folder = intermediate_dir("normalized_rosters", district, school_year) / extract.source
    fingerprint = None
    if extract.fingerprint:
        fingerprint = combine("normalized_rosters", extract.fingerprint, transforms_fingerprint(), district, school_year,
                              extract.source)
        stamp = read_stamp(folder)
        if stamp and stamp.get("fingerprint") == fingerprint:
            return NormalizedSource(**{**stamp["normalized"], "reused": True})
    if extract.kind != SOURCE_KIND:
        return _normalize_api_extract(extract, folder, district=district, school_year=school_year)
    con = connect()
    try:
        tables = load_table_set(con, Path(extract.folder))
        drop = ValidatedDrop(schema=extract.schema, report=FindingsReport(), con=con, modes=extract.file_modes,
                             present=list(tables))
        outputs = normalize_drop(drop, source=extract.source, district=district, school_year=school_year)
        rows = write_table_set(con, folder, outputs)
    finally:
        con.close()
    result = NormalizedSource(extract.source, extract.upload_mode, str(folder), entity_modes(drop), rows, fingerprint)
    if fingerprint:
        write_stamp(folder, {"fingerprint": fingerprint, "normalized": result.__dict__})
    return result


def _normalize_api_extract(extract: SourceExtract, folder: Path, *, district: str, school_year: str) -> NormalizedSource:
    """An API extract's raw tables through its kind's SQL models. Entities the source does not
    feed come out as empty tables, marked absent so that nothing stored is deleted."""
    declared = connector_class(extract.source_type).raw_tables
    con = connect()
    try:
        sources = load_raw_tables(con, Path(extract.folder), declared)
        outputs = run_models(con, settings.transforms_dir() / extract.kind, extract.kind, sources,
                             {"source": extract.source, "district": district, "school_year": school_year},
                             fill_missing=True)
        rows = write_table_set(con, folder, outputs)
    finally:
        con.close()
    return NormalizedSource(extract.source, extract.upload_mode, str(folder), dict(extract.file_modes), rows)
