"""Normalized rosters: each source mapped into the canonical model by the SQL models."""


import json
from pathlib import Path

import dagster as dg
import duckdb

from passport_pipelines.artifacts.reuse import add_file
from passport_pipelines.assets.finding_metadata import findings_metadata
from passport_pipelines.assets.rules_metadata import requirements_check, rules_metadata, taken_values
from passport_pipelines.model.entities import CANONICAL_MODELS
from passport_pipelines.model.schema_check import check_parquet
from passport_pipelines.partitions import partition_of, sync_check, sync_partitions
from passport_pipelines.resources.golden_store import GoldenStoreResource
from passport_pipelines.resources.integrations import IntegrationsResource
from passport_pipelines.sync.extract import SourceExtract
from passport_pipelines.sync.normalize import STAGE, NormalizedSource, normalize_source
from passport_pipelines.sync.school_year_check import check_school_years

CANONICAL_SCHEMA = "canonical_schema"
SCHEMA_CHECK_FILE = "schema_check.json"
DATA_REQUIREMENTS = "data_requirements"
SESSIONS_IN_SCHOOL_YEAR = "sessions_in_school_year"
# Canonical columns holding personal data: their failing values are never put in metadata.
PERSONAL = frozenset({
    "given_name", "family_name", "middle_name", "preferred_given_name", "preferred_family_name", "username",
    "email", "sms", "phone", "identifier", "state_id", "user_ids", "birth_date", "city_of_birth",
})
_FAILURE_SCHEMA = dg.TableSchema(columns=[
    dg.TableColumn("source", "string"), dg.TableColumn("entity", "string"), dg.TableColumn("column", "string"),
    dg.TableColumn("check", "string"), dg.TableColumn("failure_case", "string"), dg.TableColumn("index", "int"),
])


def _schema_failures(result: NormalizedSource, district: str, school_year: str) -> tuple[int, list[dg.TableRecord]]:
    """Run each canonical pandera model over its table; count and sample the failure cases.
    Tables reused from an earlier sync (same fingerprint) reuse its result as well."""
    saved = Path(result.folder) / SCHEMA_CHECK_FILE
    if result.fingerprint and saved.exists():
        data = json.loads(saved.read_text(encoding="utf-8"))
        if data.get("fingerprint") == result.fingerprint:
            return data["total"], [dg.TableRecord(r) for r in data["records"]]
    total, records = _run_pandera(result.source, result.folder)
    if result.fingerprint:
        saved.write_text(json.dumps({"fingerprint": result.fingerprint, "total": total,
                                     "records": [r.data for r in records]}), encoding="utf-8")
        # Filed with the tables, so the next sync of the same input skips the check as well.
        add_file(STAGE, district, school_year, result.source, result.fingerprint, saved)
    return total, records


def _run_pandera(source: str, folder: str) -> tuple[int, list[dg.TableRecord]]:
    """Every canonical table against its pandera model, executed in DuckDB (``model/schema_check.py``)."""
    total, records = 0, []
    con = duckdb.connect()
    try:
        for entity, model in CANONICAL_MODELS.items():
            n, cases = check_parquet(con, Path(folder) / f"{entity}.parquet", model, limit=100 - len(records))
            total += n
            records += [dg.TableRecord({
                "source": source, "entity": entity, "column": case.column or "", "check": case.check,
                "failure_case": "<withheld>" if case.column in PERSONAL else str(case.failure_case)[:40],
                "index": case.index,
            }) for case in cases]
    finally:
        con.close()
    return total, records


@dg.asset(
    partitions_def=sync_partitions,
    group_name="roster_sync",
    kinds={"duckdb", "pandera"},
    check_specs=[
        sync_check(
            CANONICAL_SCHEMA, asset="normalized_rosters", blocking=True,
            description="Every canonical table matches its pandera model; failure cases in metadata.",
        ),
        sync_check(
            SESSIONS_IN_SCHOOL_YEAR, asset="normalized_rosters", blocking=True,
            description="Each API source's academic sessions and classes are of the sync's school year "
                        "(sync/school_year_check.py); a roster of another year is never committed.",
        ),
        sync_check(
            DATA_REQUIREMENTS, asset="normalized_rosters",
            description="Fields the integration requires: rows missing one are counted with sample ids; "
                        "report_if_missing keeps them, skip_if_missing leaves them out.",
        ),
    ],
)
def normalized_rosters(context: dg.AssetExecutionContext, source_extracts: dict, integrations: IntegrationsResource,
                       golden_store: GoldenStoreResource):
    """Orgs, sessions, courses, classes, users, roles, enrollments, demographics and guardian
    links of every source, in the canonical model, after each source's integration rules
    (attribute mapping, transforms, schools mapping, filters, data requirements, id prefix),
    each row naming its source."""
    district, school_year = partition_of(context)
    integration = integrations.load(district)
    taken = taken_values(golden_store.store(), district, school_year, integration)
    normalized = []
    failures, records = 0, []
    for raw in source_extracts["sources"]:
        extract = SourceExtract(**raw)
        result = normalize_source(extract, district=district, school_year=school_year, run_id=context.run.run_id,
                                  integration=integration, taken=taken(extract.source))
        normalized.append(result.__dict__)
        n, recs = _schema_failures(result, district, school_year)
        failures += n
        records += recs
    rows = {}
    for n in normalized:
        for entity, count in n["rows"].items():
            rows[entity] = rows.get(entity, 0) + count
    rules = {n["source"]: n["rules"] for n in normalized}
    yield dg.Output({**source_extracts, "normalized": normalized},
                    metadata={"rows": dg.MetadataValue.json(rows), "total_rows": sum(rows.values()),
                              "dagster/row_count": sum(rows.values()),
                              **rules_metadata(rules)})
    yield dg.AssetCheckResult(
        check_name=CANONICAL_SCHEMA, passed=failures == 0, severity=dg.AssetCheckSeverity.ERROR,
        metadata={"failure_cases": failures,
                  "failures": dg.MetadataValue.table(records[:100], schema=_FAILURE_SCHEMA)},
    )
    years = check_school_years(source_extracts["sources"], normalized, school_year)
    yield dg.AssetCheckResult(check_name=SESSIONS_IN_SCHOOL_YEAR, severity=dg.AssetCheckSeverity.ERROR,
                              passed=not any(r.has_errors for r in years.values()),
                              metadata=findings_metadata(years, ("error", "warning")))
    yield requirements_check(DATA_REQUIREMENTS, rules)
