"""OneRoster exports: the committed golden data delivered as OneRoster 1.1 CSV bulk zips."""


import dagster as dg

from passport_pipelines.partitions import partition_of, sync_partitions
from passport_pipelines.resources.golden_store import GoldenStoreResource
from passport_pipelines.resources.integrations import IntegrationsResource
from passport_pipelines.sync.deliver import deliver_version


@dg.asset(partitions_def=sync_partitions, group_name="roster_sync", kinds={"csv"})
def oneroster_exports(context: dg.AssetExecutionContext, golden_records: dict, golden_store: GoldenStoreResource,
                      integrations: IntegrationsResource):
    """One zip per destination, ids as golden ids, spreadsheet formulas neutralized. The
    version becomes 'successfully in production' once every destination has its file."""
    district, _ = partition_of(context)
    store = golden_store.store()
    version = store.version(golden_records["id"])
    delivered = deliver_version(integrations.load(district), version, store)
    return dg.Output(
        delivered,
        metadata={"files": dg.MetadataValue.json([d["path"] for d in delivered]),
                  "version": version.number,
                  "rows": dg.MetadataValue.json({d["destination"]: d["rows"] for d in delivered})},
    )
