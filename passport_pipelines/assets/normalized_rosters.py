"""Normalized rosters: each source mapped into the canonical model by the SQL models."""


import json
from pathlib import Path

import dagster as dg

from passport_pipelines.artifacts.reuse import add_file
from passport_pipelines.assets.finding_metadata import findings_metadata
from passport_pipelines.assets.rules_metadata import requirements_check, rules_metadata, taken_values
from passport_pipelines.partitions import partition_of, sync_check, sync_partitions
from passport_pipelines.resources.golden_store import GoldenStoreResource
from passport_pipelines.resources.integrations import IntegrationsResource
from passport_pipelines.sync.extract import SourceExtract
from passport_pipelines.sync.normalize import STAGE, NormalizedSource, normalize_source
from passport_pipelines.sync.row_accounting import source_accounting
from passport_pipelines.sync.schema_failures import SchemaFailures, schema_failures
from passport_pipelines.sync.school_year_check import check_school_years

CANONICAL_SCHEMA = "canonical_schema"
SCHEMA_CHECK_FILE = "schema_check.json"
DATA_REQUIREMENTS = "data_requirements"
SESSIONS_IN_SCHOOL_YEAR = "sessions_in_school_year"
_FAILURE_SCHEMA = dg.TableSchema(columns=[
    dg.TableColumn("source", "string"), dg.TableColumn("entity", "string"), dg.TableColumn("column", "string"),
    dg.TableColumn("check", "string"), dg.TableColumn("failure_case", "string"), dg.TableColumn("index", "int"),
])


def _schema_failures(result: NormalizedSource, district: str, school_year: str) -> SchemaFailures:
    """Each canonical table against its pandera model (``sync/schema_failures.py``). Tables reused
    from an earlier sync (same fingerprint) reuse its result as well."""
    saved = Path(result.folder) / SCHEMA_CHECK_FILE
    if result.fingerprint and saved.exists():
        data = json.loads(saved.read_text(encoding="utf-8"))
        if data.get("fingerprint") == result.fingerprint and "totals" in data:
            return SchemaFailures(data["total"], data["totals"], data["records"])
    failures = schema_failures(result.source, result.folder)
    if result.fingerprint:
        saved.write_text(json.dumps({"fingerprint": result.fingerprint, "total": failures.total,
                                     "totals": failures.totals, "records": failures.records}), encoding="utf-8")
        # Filed with the tables, so the next sync of the same input skips the check as well.
        add_file(STAGE, district, school_year, result.source, result.fingerprint, saved)
    return failures


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
    each row naming its source. Its rows_accounted metadata accounts for every row read, per source
    and entity: delivered, tobedeleted, filtered by which rule, or left out for which reason."""
    district, school_year = partition_of(context)
    integration = integrations.load(district)
    taken = taken_values(golden_store.store(), district, school_year, integration)
    normalized = []
    failures, records, totals = 0, [], {}
    accounting = {}
    for raw in source_extracts["sources"]:
        extract = SourceExtract(**raw)
        result = normalize_source(extract, district=district, school_year=school_year, run_id=context.run.run_id,
                                  integration=integration, taken=taken(extract.source))
        normalized.append(result.__dict__)
        found = _schema_failures(result, district, school_year)
        failures += found.total
        records += found.records
        for key, n in found.totals.items():
            totals[f"{extract.source}: {key}"] = totals.get(f"{extract.source}: {key}", 0) + n
        accounting[extract.source] = source_accounting(extract, result)
    rows = {}
    for n in normalized:
        for entity, count in n["rows"].items():
            rows[entity] = rows.get(entity, 0) + count
    rules = {n["source"]: n["rules"] for n in normalized}
    yield dg.Output({**source_extracts, "normalized": normalized, "accounting": accounting},
                    metadata={"rows": dg.MetadataValue.json(rows), "total_rows": sum(rows.values()),
                              "dagster/row_count": sum(rows.values()),
                              "rows_accounted": dg.MetadataValue.json(accounting),
                              **rules_metadata(rules)})
    yield dg.AssetCheckResult(
        check_name=CANONICAL_SCHEMA, passed=failures == 0, severity=dg.AssetCheckSeverity.ERROR,
        metadata={"failure_cases": failures, "totals_by_rule": dg.MetadataValue.json(totals),
                  "failures": dg.MetadataValue.table([dg.TableRecord(r) for r in records[:100]],
                                                     schema=_FAILURE_SCHEMA)},
    )
    years = check_school_years(source_extracts["sources"], normalized, school_year)
    yield dg.AssetCheckResult(check_name=SESSIONS_IN_SCHOOL_YEAR, severity=dg.AssetCheckSeverity.ERROR,
                              passed=not any(r.has_errors for r in years.values()),
                              metadata=findings_metadata(years, ("error", "warning")))
    yield requirements_check(DATA_REQUIREMENTS, rules)
