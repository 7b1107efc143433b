"""Roster changes: what this sync adds, updates and deletes against the last committed version."""


import dagster as dg

from passport_pipelines.partitions import partition_of, sync_partitions
from passport_pipelines.resources.golden_store import GoldenStoreResource
from passport_pipelines.resources.integrations import IntegrationsResource
from passport_pipelines.sync.changes import compute_changes
from passport_pipelines.sync.normalize import NormalizedSource


@dg.asset(partitions_def=sync_partitions, group_name="roster_sync", kinds={"duckdb"})
def roster_changes(context: dg.AssetExecutionContext, normalized_rosters: dict, golden_store: GoldenStoreResource,
                   integrations: IntegrationsResource):
    """Per entity: records added, updated (with the fields that changed) and deleted. Full mode
    deletes what a complete file no longer has; deleting a user or class ends its enrollments.
    Then the duplicate people among what the sync adds or changes, by the integration's domains
    of uniqueness: merged unattended, or queued for review."""
    district, school_year = partition_of(context)
    integration = integrations.load(district)
    normalized = [NormalizedSource(**n) for n in normalized_rosters["normalized"]]
    changes = compute_changes(normalized, district=district, school_year=school_year, store=golden_store.store(),
                              reconciliation=integration.reconciliation,
                              source_order=[s.name for s in integration.sources])
    table = [dg.TableRecord({"entity": e, **c}) for e, c in changes.counts.items()]
    return dg.Output(
        {**normalized_rosters, "changes": changes.__dict__},
        metadata={
            "changes": dg.MetadataValue.table(table, schema=dg.TableSchema(columns=[
                dg.TableColumn("entity", "string"), dg.TableColumn("added", "int"),
                dg.TableColumn("updated", "int"), dg.TableColumn("deleted", "int")])),
            "total_changes": sum(sum(c.values()) for c in changes.counts.values()),
            "base_version_id": changes.base_version_id or 0,
            **({"duplicates": dg.MetadataValue.json(changes.duplicates)} if changes.duplicates else {}),
        },
    )
