"""Normalized rosters: each source mapped into the canonical model by the SQL models."""


import json
from pathlib import Path

import dagster as dg

from passport_pipelines.artifacts.reuse import add_file
from passport_pipelines.assets.finding_metadata import findings_metadata
from passport_pipelines.assets.rules_metadata import requirements_check, rules_metadata, taken_values
from passport_pipelines.jobs.asset_groups import NORMALIZE, sync_asset
from passport_pipelines.jobs.partitions import partition_of, sync_asset_check, sync_partitions
from passport_pipelines.normalize.handoff import NormalizedRosters
from passport_pipelines.normalize.rosters import STAGE, NormalizedSource, normalize_source
from passport_pipelines.normalize.row_accounting import source_accounting
from passport_pipelines.normalize.schema_failures import SchemaFailures, schema_failures
from passport_pipelines.normalize.school_year_check import check_school_years
from passport_pipelines.resources.golden_store import GoldenStoreResource
from passport_pipelines.resources.integrations import IntegrationsResource
from passport_pipelines.validation.handoff import SourceExtracts

CANONICAL_SCHEMA = "canonical_schema"
SCHEMA_CHECK_FILE = "schema_check.json"
DATA_REQUIREMENTS = "data_requirements"
SESSIONS_IN_SCHOOL_YEAR = "sessions_in_school_year"
_FAILURE_SCHEMA = dg.TableSchema(columns=[
    dg.TableColumn("source", "string"), dg.TableColumn("entity", "string"), dg.TableColumn("column", "string"),
    dg.TableColumn("check", "string"), dg.TableColumn("failure_case", "string"), dg.TableColumn("index", "int"),
])


def _schema_failures(result: NormalizedSource, district: str, school_year: str) -> SchemaFailures:
    """Each canonical table against its pandera model (``normalize/schema_failures.py``). Tables reused
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
    **sync_asset(NORMALIZE),
    kinds={"duckdb", "pandera"},
)
def normalized_rosters(context: dg.AssetExecutionContext, source_extracts: SourceExtracts,
                       integrations: IntegrationsResource, golden_store: GoldenStoreResource) -> dg.Output:
    """Orgs, sessions, courses, classes, users, roles, enrollments, demographics and guardian
    links of every source, in the canonical model, after each source's integration rules
    (attribute mapping, transforms, schools mapping, filters, data requirements, id prefix),
    each row naming its source. Its rows_accounted metadata accounts for every row read, per source
    and entity: delivered, tobedeleted, filtered by which rule, or left out for which reason."""
    district, school_year = partition_of(context)
    integration = integrations.load(district)
    taken = taken_values(golden_store.store(), district, school_year, integration)
    normalized = []
    accounting = {}
    for extract in source_extracts.sources:
        result = normalize_source(extract, district=district, school_year=school_year, run_id=context.run.run_id,
                                  integration=integration, taken=taken(extract.source))
        normalized.append(result)
        accounting[extract.source] = source_accounting(extract, result)
    rows = {}
    for n in normalized:
        for entity, count in n.rows.items():
            rows[entity] = rows.get(entity, 0) + count
    rules = {n.source: n.rules for n in normalized}
    return dg.Output(NormalizedRosters(source_extracts, tuple(normalized), accounting),
                     metadata={"rows": dg.MetadataValue.json(rows), "total_rows": sum(rows.values()),
                               "dagster/row_count": sum(rows.values()),
                               "rows_accounted": dg.MetadataValue.json(accounting),
                               **rules_metadata(rules)})


# The checks below read what normalized_rosters handed on (its sources and the folders of their
# canonical Parquet tables), so each can be executed again on its own from the asset's Checks tab.
# The blocking ones keep roster_changes, and so the commit, from running when they fail.

def _normalized_sources(normalized_rosters: NormalizedRosters) -> tuple[NormalizedSource, ...]:
    """The sources of the materialization checked; a failure when its canonical tables are gone (the
    working folder of a run is removed by a later sync of the partition)."""
    sources = normalized_rosters.normalized
    gone = [s.source for s in sources if not Path(s.folder).is_dir()]
    if gone:
        raise dg.Failure(f"the canonical tables of {', '.join(gone)} checked here are no longer on disk "
                         f"(run {normalized_rosters.extracts.run_id}): sync the district again to check them")
    return sources


@sync_asset_check(
    asset=normalized_rosters, name=CANONICAL_SCHEMA, blocking=True,
    description="Every canonical table matches its pandera model; failure cases in metadata.",
)
def canonical_schema(context: dg.AssetCheckExecutionContext,
                     normalized_rosters: NormalizedRosters) -> dg.AssetCheckResult:
    district, school_year = partition_of(context)
    failures, records, totals = 0, [], {}
    for result in _normalized_sources(normalized_rosters):
        found = _schema_failures(result, district, school_year)
        failures += found.total
        records += found.records
        for key, n in found.totals.items():
            totals[f"{result.source}: {key}"] = totals.get(f"{result.source}: {key}", 0) + n
    return dg.AssetCheckResult(
        passed=failures == 0, severity=dg.AssetCheckSeverity.ERROR,
        metadata={"failure_cases": failures, "totals_by_rule": dg.MetadataValue.json(totals),
                  "failures": dg.MetadataValue.table([dg.TableRecord(r) for r in records[:100]],
                                                     schema=_FAILURE_SCHEMA)},
    )


@sync_asset_check(
    asset=normalized_rosters, name=SESSIONS_IN_SCHOOL_YEAR, blocking=True,
    description="Each API source's academic sessions and classes are of the sync's school year "
                "(normalize/school_year_check.py); a roster of another year is never committed.",
)
def sessions_in_school_year(context: dg.AssetCheckExecutionContext,
                            normalized_rosters: NormalizedRosters) -> dg.AssetCheckResult:
    _, school_year = partition_of(context)
    years = check_school_years(normalized_rosters.extracts.sources, _normalized_sources(normalized_rosters),
                               school_year)
    return dg.AssetCheckResult(severity=dg.AssetCheckSeverity.ERROR,
                               passed=not any(r.has_errors for r in years.values()),
                               metadata=findings_metadata(years, ("error", "warning")))


@sync_asset_check(
    asset=normalized_rosters, name=DATA_REQUIREMENTS,
    description="Fields the integration requires: rows missing one are counted with sample ids; "
                "report_if_missing keeps them, skip_if_missing leaves them out.",
)
def data_requirements(normalized_rosters: NormalizedRosters) -> dg.AssetCheckResult:
    # What each source's rules found missing was counted during normalization and handed on with it.
    return requirements_check(DATA_REQUIREMENTS, {n.source: n.rules for n in normalized_rosters.normalized})


normalized_rosters_checks = [canonical_schema, sessions_in_school_year, data_requirements]
