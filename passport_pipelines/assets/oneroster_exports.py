"""OneRoster exports: the committed golden data delivered to each CSV destination of the district."""


import dagster as dg

from passport_pipelines.partitions import partition_of, sync_partitions
from passport_pipelines.resources.golden_store import GoldenStoreResource
from passport_pipelines.resources.integrations import IntegrationsResource
from passport_pipelines.sync.deliver import deliver_version

_DESTINATIONS = dg.TableSchema(columns=[
    dg.TableColumn("destination", "string"), dg.TableColumn("format", "string"), dg.TableColumn("status", "string"),
    dg.TableColumn("path", "string"), dg.TableColumn("rows", "int"), dg.TableColumn("checksum", "string"),
    dg.TableColumn("error", "string"),
])


@dg.asset(partitions_def=sync_partitions, group_name="roster_sync", kinds={"csv", "sftp"})
def oneroster_exports(context: dg.AssetExecutionContext, golden_records: dict, golden_store: GoldenStoreResource,
                      integrations: IntegrationsResource):
    """One OneRoster 1.1 or 1.2 zip per destination, through the destination's privacy shield, to its
    folder or SFTP server; ids are golden ids and spreadsheet formulas are neutralized. The version
    becomes 'successfully in production' once every destination has its file; a failed destination
    marks it 'propagation failed' and is delivered again by the next run or the retry_deliveries job.
    Nothing is delivered while a sync of the district's year is held."""
    district, _ = partition_of(context)
    store = golden_store.store()
    version = store.version(golden_records["id"])
    delivered = deliver_version(integrations.load(district), version, store)
    table = [dg.TableRecord({"destination": d["destination"], "format": d["format"], "status": d["status"],
                             "path": d.get("path", ""), "rows": sum((d.get("rows") or {}).values()),
                             "checksum": d.get("checksum", ""), "error": d.get("error", "")}) for d in delivered]
    return dg.Output(
        delivered,
        metadata={"version": version.number,
                  "destinations": dg.MetadataValue.table(table, schema=_DESTINATIONS),
                  "files": dg.MetadataValue.json([d["path"] for d in delivered if d.get("path")])},
    )
