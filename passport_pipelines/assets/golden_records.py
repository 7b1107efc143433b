"""Golden records: the change set committed to the golden store as the next version."""


import dagster as dg

from passport_pipelines.partitions import partition_of, sync_partitions
from passport_pipelines.reconciliation.people_cache import mark_committed
from passport_pipelines.resources.golden_store import GoldenStoreResource
from passport_pipelines.run_tags import APPROVED_VERSION_TAG, started_by
from passport_pipelines.sync.commit import commit_info, commit_sync
from passport_pipelines.sync.held_changes import discard_all
from passport_pipelines.sync.hold_gate import SyncHeld, approved_payload

HISTORY_ROWS = 20
_HISTORY_SCHEMA = dg.TableSchema(columns=[
    dg.TableColumn("version", "int"), dg.TableColumn("status", "string"), dg.TableColumn("started_at", "string"),
    dg.TableColumn("committed_at", "string"), dg.TableColumn("by", "string"), dg.TableColumn("mode", "string"),
    dg.TableColumn("added", "int"), dg.TableColumn("updated", "int"), dg.TableColumn("deleted", "int"),
    dg.TableColumn("decided_by", "string"),
])


def version_history(versions) -> dg.MetadataValue:
    """The latest versions of the partition, newest first, as `passport history` lists them."""
    rows = []
    for v in reversed(versions[-HISTORY_ROWS:]):
        totals = {k: sum(c[k] for c in v.changes.values()) for k in ("added", "updated", "deleted")}
        rows.append(dg.TableRecord({
            "version": v.number, "status": v.status, "by": v.committed_by, "mode": v.mode,
            "started_at": v.started_at.isoformat(timespec="seconds") if v.started_at else "",
            "committed_at": v.committed_at.isoformat(timespec="seconds") if v.committed_at else "",
            "decided_by": v.decided_by or "", **totals}))
    return dg.MetadataValue.table(rows, schema=_HISTORY_SCHEMA)


@dg.asset(partitions_def=sync_partitions, group_name="roster_sync", kinds={"sqlalchemy"})
def golden_records(context: dg.AssetExecutionContext, roster_changes: dict, golden_store: GoldenStoreResource):
    """The district's committed rosters with stable golden ids. Committed in one transaction:
    a failure leaves the store exactly as it was. A held sync is committed only by the run its
    approval launches (the `approval_sensor`), from the change set it held."""
    district, school_year = partition_of(context)
    store = golden_store.store()
    approved_id = context.run.tags.get(APPROVED_VERSION_TAG)
    if approved_id:
        held = approved_payload(store, int(approved_id), district=district, school_year=school_year)
        payload, committed_by, run_id = held.held_changes, held.committed_by, context.run.run_id
    else:
        if roster_changes.get("held_version"):
            # Materialized by hand after a held sync: the held change set waits for its approval.
            raise SyncHeld(district, school_year, roster_changes["held_version"]["number"])
        payload, committed_by, run_id = roster_changes, started_by(context.run.tags), context.run.run_id
    info = commit_info(payload, district=district, school_year=school_year, run_id=run_id, committed_by=committed_by)
    version, credential_counts = commit_sync(payload, info, store,
                                             approved_version_id=int(approved_id) if approved_id else None)
    # The people the duplicate search cached for the next sync are now those of this version.
    mark_committed(payload["changes"], version)
    # The commit superseded any held change set of this district's year.
    discard_all(district, school_year)
    context.log.info(f"committed {district} {school_year} version {version.number}")
    return dg.Output(
        version.as_dict(),
        metadata={"version": version.number, "status": version.status,
                  "changes": dg.MetadataValue.json(version.changes),
                  "history": version_history(store.versions(district, school_year)),
                  **({"approved_by": version.decided_by} if approved_id else {}),
                  **({"sso_credentials": dg.MetadataValue.json(credential_counts)} if credential_counts else {})},
    )
