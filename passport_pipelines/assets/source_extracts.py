"""Source extracts: every source's drop of a district, archived as received and validated."""


from datetime import datetime, timezone

import dagster as dg

from passport_pipelines.assets.finding_metadata import findings_metadata
from passport_pipelines.partitions import partition_of, sync_partitions
from passport_pipelines.resources.golden_store import GoldenStoreResource
from passport_pipelines.resources.integrations import IntegrationsResource
from passport_pipelines.sync.extract import extract_source

DROP_IS_VALID = "drop_is_valid"
REFERENCES_RESOLVE = "references_resolve"


class SyncRefused(dg.Failure):
    pass


@dg.asset(
    partitions_def=sync_partitions,
    group_name="roster_sync",
    kinds={"csv", "duckdb"},
    check_specs=[
        dg.AssetCheckSpec(
            DROP_IS_VALID, asset="source_extracts", blocking=True,
            description="Manifest, headers, required values, duplicate keys and value formats (SPEC §7). "
                        "Any error fails the drop: nothing downstream runs and the golden store is untouched.",
        ),
        dg.AssetCheckSpec(
            REFERENCES_RESOLVE, asset="source_extracts",
            description="Rows pointing at records that do not exist; they are left out and the rest goes on.",
        ),
    ],
)
def source_extracts(context: dg.AssetExecutionContext, golden_store: GoldenStoreResource,
                    integrations: IntegrationsResource):
    """Each source's OneRoster CSV drop (folder, zip or SFTP), copied as received into the
    sync's archive, then validated file by file and row by row."""
    district, school_year = partition_of(context)
    integration = integrations.load(district)
    if integration.state == "paused":
        raise SyncRefused(f"district {district} is paused; set state: active in its integration file to sync")
    if school_year not in integration.school_years:
        raise SyncRefused(f"{school_year} is not one of {district}'s school years ({', '.join(integration.school_years)})")
    store = golden_store.store()
    started_at = datetime.now(timezone.utc)
    extracts, reports = [], {}
    for source in integration.sources:
        extract, report = extract_source(integration, source, school_year=school_year, run_id=context.run.run_id,
                                         store=store)
        extracts.append(extract.as_dict())
        reports[source.name] = report
        context.log.info(f"source {source.name}: {sum(extract.rows.values())} rows read; {report.render(limit=0)}")

    errors = sum(r.count("error") for r in reports.values())
    filtered = sum(r.count("filtered") for r in reports.values())
    yield dg.Output(
        {"district": district, "school_year": school_year, "started_at": started_at.isoformat(), "sources": extracts},
        metadata={
            "rows_read": sum(sum(e["rows"].values()) for e in extracts),
            "rows_filtered": filtered,
            "archive": dg.MetadataValue.path(str(extracts[0]["archive"]).rsplit("/", 1)[0]) if extracts else "",
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
                  "filtered_by_file": dg.MetadataValue.json({e["source"]: e["filtered"] for e in extracts})},
    )
