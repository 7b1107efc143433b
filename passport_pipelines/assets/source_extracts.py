"""Source extracts: every source's drop of a district, archived as received and validated."""


from datetime import datetime, timezone

import dagster as dg

from passport_pipelines.assets.api_extracts import extracts_asset_name
from passport_pipelines.assets.finding_metadata import findings_metadata
from passport_pipelines.jobs.asset_groups import EXTRACT, sync_asset
from passport_pipelines.jobs.partitions import partition_of, sync_check, sync_partitions
from passport_pipelines.resources.golden_store import GoldenStoreResource
from passport_pipelines.resources.integrations import IntegrationsResource
from passport_pipelines.sources.registry import CONNECTORS
from passport_pipelines.validation.extract import extract_source
from passport_pipelines.validation.handoff import ApiExtracts, SourceExtracts

DROP_IS_VALID = "drop_is_valid"
REFERENCES_RESOLVE = "references_resolve"


@dg.asset(
    partitions_def=sync_partitions,
    **sync_asset(EXTRACT),
    kinds={"csv", "duckdb"},
    ins={extracts_asset_name(t): dg.AssetIn() for t in CONNECTORS},
    deps=["integration_settings"],
    # Both checks stay inside the asset: they report the validation of each drop as it is read
    # (the in-memory findings of every rule, counted exactly), which nothing stored can give back:
    # the archive's validation_report.json is a cut-down copy for people. Re-evaluating them would
    # mean reading the drop again, i.e. materializing this asset. drop_is_valid is also where a
    # failed sync says it failed: in the source_extracts step, as its notifications name it.
    check_specs=[
        sync_check(
            DROP_IS_VALID, asset="source_extracts", blocking=True,
            description="Manifest, headers, required values, duplicate keys and value formats. "
                        "Any error fails the drop: nothing downstream runs and the golden store is untouched.",
        ),
        sync_check(
            REFERENCES_RESOLVE, asset="source_extracts",
            description="Rows pointing at records that do not exist, or at rows left out before them (named, "
                        "with why); they are left out and the rest goes on. Counts per file and reason in "
                        "filtered_by_file and normalized_rosters' rows_accounted.",
        ),
    ],
)
def source_extracts(context: dg.AssetExecutionContext, golden_store: GoldenStoreResource,
                    integrations: IntegrationsResource, **api_extracts: ApiExtracts):
    """Every source of the district, in the order of its integration file: each CSV drop (folder,
    zip or SFTP) copied as received into the sync's archive and validated file by file and row by
    row, next to the API extracts of the connector assets."""
    district, school_year = partition_of(context)
    integration = integrations.load(district)
    store = golden_store.store()
    # The run's start, not this step's: API extracts ran before and their cursors start there.
    started_at = datetime.fromtimestamp(context.instance.get_run_stats(context.run.run_id).start_time
                                        or datetime.now(timezone.utc).timestamp(), timezone.utc)
    fetched = {e.source: e for upstream in api_extracts.values() for e in upstream.sources}
    extracts, reports = [], {}
    for source in integration.sources:
        if source.name in fetched:
            extracts.append(fetched[source.name])
            continue
        extract, report = extract_source(integration, source, school_year=school_year, run_id=context.run.run_id,
                                         store=store)
        extracts.append(extract)
        reports[source.name] = report
        context.log.info(f"source {source.name}: {sum(extract.rows.values())} rows read; {report.render(limit=0)}")

    errors = sum(r.count("error") for r in reports.values())
    filtered = sum(r.count("filtered") for r in reports.values())
    yield dg.Output(
        SourceExtracts(run_id=context.run.run_id, started_at=started_at.isoformat(), sources=tuple(extracts)),
        metadata={
            "rows_read": sum(sum(e.rows.values()) for e in extracts),
            "dagster/row_count": sum(sum(e.rows.values()) for e in extracts),
            "rows_filtered": filtered,
            "archive": dg.MetadataValue.path(str(extracts[0].archive).rsplit("/", 1)[0]) if extracts else "",
        },
    )
    yield dg.AssetCheckResult(
        check_name=DROP_IS_VALID, passed=errors == 0, severity=dg.AssetCheckSeverity.ERROR,
        metadata={**findings_metadata(reports, ("error",)),
                  "warnings": sum(r.count("warning") for r in reports.values())},
    )
    yield dg.AssetCheckResult(
        check_name=REFERENCES_RESOLVE, passed=filtered == 0, severity=dg.AssetCheckSeverity.WARN,
        metadata={**findings_metadata(reports, ("filtered",)),
                  "filtered_by_file": dg.MetadataValue.json({e.source: e.filtered for e in extracts})},
    )
