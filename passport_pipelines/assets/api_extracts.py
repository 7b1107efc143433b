"""API extracts: one asset per connector kind, each in its own Dagster pool.

A district's PowerSchool, OneRoster, Synergy, xPress and Google sources are read by the asset of
their kind; a district without a source of a kind gets an empty extract from it. The pool
(``sis_<type>``, limits in ``deploy/dagster.yaml``) caps how many districts read one vendor's API
at the same time, so a fleet of syncs never hammers one SIS.
"""

import dagster as dg

from passport_pipelines.jobs.asset_groups import EXTRACT, sync_asset
from passport_pipelines.jobs.partitions import partition_of, sync_partitions
from passport_pipelines.sources.errors import ConnectorError
from passport_pipelines.sources.registry import CONNECTORS, resource_key
from passport_pipelines.validation.extract import extract_api_source
from passport_pipelines.validation.handoff import ApiExtracts

KIND_LABELS = {"powerschool": "PowerSchool", "oneroster": "OneRoster REST", "synergy": "Synergy",
               "xpress": "xPress Roster", "google": "Google Workspace"}


class ExtractFailed(dg.Failure):
    """A source could not be read; nothing downstream runs, so the golden store stays as it was."""


def pool_name(source_type: str) -> str:
    return f"sis_{source_type}"


def extracts_asset_name(source_type: str) -> str:
    return f"{source_type}_extracts"


def build_api_extracts_asset(source_type: str) -> dg.AssetsDefinition:
    label = KIND_LABELS[source_type]

    @dg.asset(
        name=extracts_asset_name(source_type),
        partitions_def=sync_partitions,
        **sync_asset(EXTRACT),
        kinds={"api"},
        pool=pool_name(source_type),
        deps=["integration_settings"],
        required_resource_keys={resource_key(source_type), "integrations", "golden_store"},
        description=f"Raw records of the district's {label} sources, fetched page by page and archived as "
                    f"received (one JSON document per record). Empty for a district without a {label} source.",
    )
    def _extracts(context: dg.AssetExecutionContext) -> dg.Output:
        district, school_year = partition_of(context)
        integration = context.resources.integrations.load(district)
        sources = [s for s in integration.sources if s.type == source_type]
        if not sources:
            # Most districts have one or two kinds of source: the others cost this step and nothing more.
            return dg.Output(ApiExtracts(), metadata={"sources": f"no {label} source", "records": 0})
        connector = getattr(context.resources, resource_key(source_type))
        store = context.resources.golden_store.store()
        extracts = []
        for source in sources:
            try:
                extract = extract_api_source(integration, source, connector, school_year=school_year,
                                             run_id=context.run.run_id, store=store)
            except ConnectorError as exc:
                # Nothing downstream runs, so the golden store stays as it was.
                raise ExtractFailed(f"source {source.name} ({label}): {exc}",
                                    metadata={"source": source.name, "failure": exc.kind}) from None
            context.log.info(f"source {source.name}: {sum(extract.rows.values())} records in {extract.requests} "
                             f"requests ({extract.retries} retried); school year: {extract.school_year_scope}")
            extracts.append(extract)
        return dg.Output(ApiExtracts(tuple(extracts)), metadata={
            "sources": ", ".join(e.source for e in extracts) or f"no {label} source",
            "records": sum(sum(e.rows.values()) for e in extracts),
            "requests": sum(e.requests for e in extracts),
            "retries": sum(e.retries for e in extracts),
            "records_by_table": dg.MetadataValue.json({e.source: e.rows for e in extracts}),
            "school_year": dg.MetadataValue.json({e.source: e.school_year_scope for e in extracts}),
        })

    return _extracts


api_extracts = [build_api_extracts_asset(t) for t in CONNECTORS]
