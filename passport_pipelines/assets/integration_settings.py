"""Integration settings: the district's integration file as this sync reads it, the first step of every sync.

Every other step of the sync depends on it, so what must hold before anything is read is decided
here once: the district syncs this school year and is not paused, no other sync of the district is
running, and the run carries the ``passport/*`` tags however it was launched (a backfill or a
materialization from the asset graph brings none). It also clears what ended runs left behind.
"""

import os

import dagster as dg

from passport_pipelines.artifacts.sweep import sweep_partition
from passport_pipelines.assets.sync_guard import SyncRefused, refuse_unless_syncable
from passport_pipelines.assets.sync_outcome import stamp_sync_tags
from passport_pipelines.config.loader import IntegrationError
from passport_pipelines.jobs.asset_groups import SETTINGS, sync_asset
from passport_pipelines.jobs.partitions import partition_of, sync_partitions
from passport_pipelines.jobs.run_liveness import started_before
from passport_pipelines.jobs.run_tags import started_by, trigger_of
from passport_pipelines.resources.golden_store import GoldenStoreResource
from passport_pipelines.resources.integrations import IntegrationsResource
from passport_pipelines.store.stuck_versions import settle_stuck_versions

_SOURCES = dg.TableSchema(columns=[
    dg.TableColumn("source", "string"), dg.TableColumn("type", "string"), dg.TableColumn("mode", "string"),
    dg.TableColumn("reads", "string"),
])


def _where(integration, source) -> str:
    """What the source reads, without credentials: a folder, a zip, an SFTP path or an API base URL."""
    for attribute in ("path", "remote_path", "base_url"):
        value = getattr(source, attribute, None)
        if value:
            return str(integration.resolve_path(value)) if attribute == "path" else str(value)
    return source.type


@dg.asset(**sync_asset(SETTINGS), partitions_def=sync_partitions, kinds={"yaml"})
def integration_settings(context: dg.AssetExecutionContext, golden_store: GoldenStoreResource,
                         integrations: IntegrationsResource) -> dg.Output:
    """The district's integration file as this sync read it: its sources (and what each reads for
    this school year), its destinations and change control. A paused district, a school year the
    file does not list, or a second sync of a district already syncing is refused here, before
    anything is read or changed."""
    district, school_year = partition_of(context)
    run = context.run
    try:
        integration = integrations.load(district)
    except IntegrationError as exc:
        raise SyncRefused(str(exc)) from None
    refuse_unless_syncable(integration, school_year, run.tags)
    stamp_sync_tags(context, district, school_year)
    other = started_before(context.instance, district, run.run_id)
    if other is not None:
        raise SyncRefused(
            f"another sync of {district} is running (run {other.run_id}, started by {started_by(other.tags)}): "
            "this run read and changed nothing. Launch it again once that one has ended; with the instance's "
            "run queue (dagster dev, or deploy/dagster.yaml) a second sync of a district waits instead.")
    swept = sweep_partition(context.instance, district, school_year, current_run=run.run_id)
    settled = settle_stuck_versions(golden_store.store(), context.instance, district, school_year)
    if settled:
        context.log.warning(f"{district} {school_year}: version(s) {', '.join(map(str, settled))} were left "
                            "'pending propagation' by a run that ended early: marked 'propagation failed'")
    sources = [{"source": s.name, "type": s.type, "mode": s.mode, "reads": _where(integration, s)}
               for s in integration.sources]
    return dg.Output(
        {"district": district, "school_year": school_year, "run_id": run.run_id,
         "started_by": started_by(run.tags), "trigger": trigger_of(run.tags), "pid": os.getpid()},
        metadata={
            "file": dg.MetadataValue.path(str(integration.file)) if integration.file else "",
            "sources": dg.MetadataValue.table([dg.TableRecord(s) for s in sources], schema=_SOURCES),
            "destinations": ", ".join(d.name for d in integration.destinations) or "none",
            "started_by": started_by(run.tags), "trigger": trigger_of(run.tags),
            "swept": dg.MetadataValue.json(swept),
            **({"settled_versions": dg.MetadataValue.json(settled)} if settled else {}),
        },
    )
