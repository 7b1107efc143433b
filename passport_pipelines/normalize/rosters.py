"""Stage 2, normalized rosters: each source's validated tables mapped into the canonical model."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pyarrow as pa

from passport_pipelines import settings
from passport_pipelines.artifacts.fingerprints import combine, transforms_fingerprint, write_stamp
from passport_pipelines.artifacts.layout import stage_dir
from passport_pipelines.artifacts.reuse import link_reused, publish
from passport_pipelines.artifacts.table_sets import load_table_set, write_table_set
from passport_pipelines.config.integration import Integration
from passport_pipelines.config.rules import SourceRules
from passport_pipelines.normalize.csv_drops import CsvTables, entity_modes, normalize_drop
from passport_pipelines.normalize.data_errors import values_withheld
from passport_pipelines.normalize.row_accounting import count_tobedeleted
from passport_pipelines.normalize.rules.apply import RulesReport, apply_rules
from passport_pipelines.normalize.sql_models import run_models
from passport_pipelines.sources.raw_tables import load_raw_tables
from passport_pipelines.sources.registry import connector_class
from passport_pipelines.sql.engine import connect
from passport_pipelines.validation.extract import SourceExtract
from passport_pipelines.validation.schemas.registry import CSV_KINDS

STAGE = "normalized_rosters"


@dataclass
class NormalizedSource:
    source: str
    upload_mode: str
    folder: str
    entity_modes: dict[str, str]
    rows: dict[str, int]
    fingerprint: str | None = None
    reused: bool = False
    rules: dict = field(default_factory=dict)  # what the source's integration rules did (RulesReport)
    tobedeleted: dict[str, int] = field(default_factory=dict)  # rows marked tobedeleted, per entity


def _rules_fingerprint(integration: Integration | None, source_name: str) -> object:
    if integration is None:
        return None
    source = integration.source(source_name)
    rules = source.model_dump(mode="json", include=set(SourceRules.model_fields))
    return [rules, [s.model_dump(mode="json") for s in integration.schools]]


def normalize_source(extract: SourceExtract, *, district: str, school_year: str, run_id: str | None = None,
                     integration: Integration | None = None,
                     taken: Callable[[str], pa.Array | None] | None = None) -> NormalizedSource:
    """The source's canonical tables, in the run's own folder: its SQL models, then its integration
    rules (when given). ``run_id``: the run's (a fresh one when called outside a run). A value DuckDB
    cannot use fails the source with a ``DataValueError`` that never quotes it."""
    with values_withheld(f"source {extract.source}: mapping to the canonical model"):
        return _normalize_source(extract, district=district, school_year=school_year, run_id=run_id,
                                 integration=integration, taken=taken)


def _normalize_source(extract: SourceExtract, *, district: str, school_year: str, run_id: str | None,
                      integration: Integration | None,
                      taken: Callable[[str], pa.Array | None] | None) -> NormalizedSource:
    folder = stage_dir(STAGE, district, school_year, run_id or f"adhoc-{uuid.uuid4().hex}") / extract.source
    fingerprint = None
    if extract.fingerprint and not _depends_on_store(integration, extract.source):
        fingerprint = combine(STAGE, extract.fingerprint, transforms_fingerprint(), district, school_year,
                              extract.source, _rules_fingerprint(integration, extract.source))
        stamp = link_reused(STAGE, district, school_year, extract.source, fingerprint, folder)
        if stamp:
            return NormalizedSource(**{**stamp["normalized"], "folder": str(folder), "reused": True})
    provenance = {"source": extract.source, "district": district, "school_year": school_year}
    report = RulesReport()
    modes: dict[str, str] = {}

    def refine(con, relations: dict[str, str]) -> dict[str, str]:
        # The integration rules run on the models' rows, before they are hashed and stamped.
        nonlocal report
        if integration is None:
            return relations
        source = integration.source(extract.source)
        relations = _selected_entities(con, relations, modes, source)
        relations, report = apply_rules(con, relations, source, integration, school_year, taken=taken)
        return relations

    con = connect()
    try:
        if extract.kind in CSV_KINDS:
            tables = load_table_set(con, Path(extract.folder))
            drop = CsvTables(con, extract.schema, extract.file_modes, tuple(tables))
            modes.update(entity_modes(drop))
            outputs = normalize_drop(drop, **provenance, refine=refine)
        else:
            # Entities an API source does not feed come out empty, marked absent: nothing stored is deleted.
            modes.update(extract.file_modes)
            declared = connector_class(extract.source_type).raw_tables
            sources = load_raw_tables(con, Path(extract.folder), declared)
            outputs = run_models(con, settings.transforms_dir() / extract.kind, extract.kind, sources, provenance,
                                 fill_missing=True, refine=refine)
        rows = write_table_set(con, folder, outputs)
    finally:
        con.close()
    result = NormalizedSource(extract.source, extract.upload_mode, str(folder), modes, rows, fingerprint,
                              rules=report.as_dict(), tobedeleted=count_tobedeleted(folder, list(rows)))
    if fingerprint:
        write_stamp(folder, {"fingerprint": fingerprint, "normalized": result.__dict__})
        publish(STAGE, district, school_year, extract.source, fingerprint, folder)
    return result


def _depends_on_store(integration: Integration | None, source_name: str) -> bool:
    """Unique usernames look at what the district already has: never reuse such a result."""
    if integration is None:
        return False
    transforms = integration.source(source_name).transforms
    return any(getattr(rule, "unique", False) for rules in transforms.values() for rule in rules)


def _selected_entities(con, relations: dict[str, str], modes: dict[str, str], source) -> dict[str, str]:
    """Entities the source is not asked to feed come out empty and absent: it neither adds nor
    deletes any of them (roles go with users)."""
    if source.entities is None:
        return relations
    relations = dict(relations)
    for entity in list(relations):
        if not source.wants("users" if entity == "roles" else entity):
            con.execute(f"CREATE OR REPLACE TEMP VIEW unselected__{entity} AS SELECT * FROM {relations[entity]} LIMIT 0")
            relations[entity], modes[entity] = f"unselected__{entity}", "absent"
    return relations
