"""Golden records: the change set committed to the golden store as the next version."""

import dagster as dg

from passport_pipelines.assets.roster_changes import changes_table
from passport_pipelines.assets.sync_outcome import stamp_sync_tags, tag_outcome
from passport_pipelines.changes.commit import commit_info, commit_sync
from passport_pipelines.changes.handoff import CommittedVersion, HeldFormatError, SyncChanges
from passport_pipelines.changes.held_changes import discard_all
from passport_pipelines.changes.hold_gate import SyncHeld, approved_version
from passport_pipelines.jobs.asset_groups import COMMIT, sync_asset
from passport_pipelines.jobs.partitions import partition_of, sync_partitions
from passport_pipelines.jobs.run_tags import APPROVED_VERSION_TAG, started_by
from passport_pipelines.reconciliation.people_cache import mark_committed
from passport_pipelines.resources.golden_store import GoldenStoreResource

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


def _on_record_after(before: dict[str, int], changes: dict[str, dict[str, int]]) -> dict[str, int]:
    """Records current after the commit: those before it (counted when the change set was computed,
    against the version this one is built on), plus additions, less deletions."""
    entities = set(before) | set(changes)
    return {e: before.get(e, 0) + changes.get(e, {}).get("added", 0) - changes.get(e, {}).get("deleted", 0)
            for e in sorted(entities)}


def _computed_in_this_run(context: dg.AssetExecutionContext, sync: SyncChanges) -> bool:
    """Whether the change set was computed by this run (or the run it re-executes), rather than read
    from an earlier run because golden_records was materialized on its own."""
    run = context.run
    return sync.run_id in {run.run_id, run.parent_run_id, run.root_run_id}


@dg.asset(**sync_asset(COMMIT), partitions_def=sync_partitions, kinds={"sqlalchemy"}, output_required=False)
def golden_records(context: dg.AssetExecutionContext, roster_changes: SyncChanges, golden_store: GoldenStoreResource):
    """The district's committed rosters with stable golden ids. Committed in one transaction:
    a failure leaves the store exactly as it was. A held sync is not committed here: its run ends
    held, and the run its approval launches (the `approval_sensor`) commits the change set it held.
    A preview that would change nothing commits nothing."""
    district, school_year = partition_of(context)
    store = golden_store.store()
    approved = context.run.tags.get(APPROVED_VERSION_TAG)
    if approved:
        stamp_sync_tags(context, district, school_year)  # an approval's commit run starts here
        held = approved_version(store, int(approved), district=district, school_year=school_year)
        try:
            sync = SyncChanges.from_json(held.held_changes)
        except HeldFormatError as exc:
            raise dg.Failure(f"{district} {school_year} version {held.number}: {exc}") from None
        committed_by = held.committed_by
    else:
        if roster_changes.held_version:
            number = roster_changes.held_version.number
            if not _computed_in_this_run(context, roster_changes):
                # Materialized by hand after a held sync: the held change set waits for its approval.
                raise SyncHeld(district, school_year, number)
            context.log.info(f"version {number} is held: nothing is committed or delivered until it is approved")
            return
        if not roster_changes.commit:
            context.log.info("a preview that changes nothing: nothing to commit")
            return
        sync, committed_by = roster_changes, started_by(context.run.tags)
    info = commit_info(sync, district=district, school_year=school_year, run_id=context.run.run_id,
                       committed_by=committed_by)
    version, credential_counts = commit_sync(sync, info, store,
                                             approved_version_id=held.id if approved else None)
    # The people the duplicate search cached for the next sync are now those of this version.
    mark_committed(sync.changes.__dict__, version)
    # The commit superseded any held change set of this district's year.
    discard_all(district, school_year)
    tag_outcome(context, version.status, version=version.number)
    context.log.info(f"committed {district} {school_year} version {version.number}")
    on_record = _on_record_after(sync.on_record, version.changes)
    yield dg.Output(
        CommittedVersion.of(version),
        metadata={"version": version.number,
                  "status_at_commit": f"{version.status} (the final status is on oneroster_exports, after delivery)",
                  "changes": changes_table(version.changes),
                  "records_on_record": dg.MetadataValue.json(on_record),
                  "dagster/row_count": sum(on_record.values()),
                  "history": version_history(store.versions(district, school_year)),
                  **({"approved_by": version.decided_by} if approved else {}),
                  **({"sso_credentials": dg.MetadataValue.json(credential_counts)} if credential_counts else {})},
    )
