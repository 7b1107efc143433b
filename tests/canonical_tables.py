"""Extract and normalize one source outside Dagster, and compare canonical tables across sources.

The equivalence tests use these to show that the same district gives the same canonical rows
whichever way it arrives: as a CSV drop, or through each API connector and its fake server.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import duckdb
import pyarrow as pa

from passport_pipelines import settings
from passport_pipelines.config.integration import Integration
from passport_pipelines.model import entities
from passport_pipelines.normalize.rosters import normalize_source
from passport_pipelines.sources.registry import connector_class
from passport_pipelines.store.golden_store import GoldenStore
from passport_pipelines.validation.extract import SourceExtract, extract_api_source, extract_source

# Where a row came from, not what it says: never part of an equivalence.
NOT_CONTENT = ("source", "date_last_modified")


def read_tables(folder: str) -> dict[str, pa.Table]:
    con = duckdb.connect()
    try:
        return {e: con.execute(f"SELECT * FROM read_parquet('{Path(folder) / (e + '.parquet')}')").to_arrow_table()
                for e in entities.ENTITIES}
    finally:
        con.close()


def extract(integration: Integration, source_name: str, *, school_year: str = "2025-2026",
            connector=None) -> SourceExtract:
    source = integration.source(source_name)
    store = GoldenStore(settings.database_url())
    run_id = uuid.uuid4().hex
    try:
        if source.type in ("csv", "sftp"):
            result, report = extract_source(integration, source, school_year=school_year, run_id=run_id, store=store)
            assert result.ok, report.render(limit=10)
            return result
        connector = connector or connector_class(source.type)()
        return extract_api_source(integration, source, connector, school_year=school_year, run_id=run_id, store=store)
    finally:
        store.dispose()


def canonical_tables(integration: Integration, source_name: str, *, school_year: str = "2025-2026",
                     connector=None) -> dict[str, pa.Table]:
    """The canonical tables one source of the integration gives, entity -> Arrow table."""
    result = extract(integration, source_name, school_year=school_year, connector=connector)
    normalized = normalize_source(result, district=integration.district, school_year=school_year,
                                  integration=integration)
    return read_tables(normalized.folder)


def _rows(table: pa.Table, columns: list[str]) -> list[dict]:
    rows = table.select(columns).to_pylist()
    return sorted(rows, key=lambda r: tuple("" if r[c] is None else str(r[c]) for c in columns))


def assert_same_canonical(expected: dict[str, pa.Table], actual: dict[str, pa.Table], *,
                          entities_: tuple[str, ...] = entities.ENTITIES,
                          columns: dict[str, list[str]] | None = None) -> None:
    """Each entity holds the same rows in both, on every content column (or on ``columns[entity]``
    for a source kind that carries only some of them); the first differences are shown."""
    for entity in entities_:
        cols = (columns or {}).get(entity) or [c for c in entities.columns(entity) if c not in NOT_CONTENT]
        if columns and entity in columns:
            cols = [c for c in cols if c != "content_hash"]
        want, got = _rows(expected[entity], cols), _rows(actual[entity], cols)
        if want == got:
            continue
        missing = [r for r in want if r not in got][:5]
        extra = [r for r in got if r not in want][:5]
        raise AssertionError(f"{entity}: {len(want)} expected rows, {len(got)} got; "
                             f"missing e.g. {missing}; unexpected e.g. {extra}")
