"""Roster changes: what this sync adds, updates and deletes against the last committed version,
and whether it must wait for a person's approval."""


import dagster as dg

from passport_pipelines.changes.hold import decide_hold
from passport_pipelines.partitions import partition_of, sync_partitions
from passport_pipelines.resources.golden_store import GoldenStoreResource
from passport_pipelines.resources.integrations import IntegrationsResource
from passport_pipelines.run_tags import is_preview, skips_deletions, started_by
from passport_pipelines.store.sync_holds import SyncHolds
from passport_pipelines.sync.changes import compute_changes
from passport_pipelines.sync.commit import commit_info
from passport_pipelines.sync.held_changes import stash
from passport_pipelines.sync.normalize import NormalizedSource

SYNC_HOLD = "sync_hold"

_HOLD_SCHEMA = dg.TableSchema(columns=[
    dg.TableColumn("entity", "string"), dg.TableColumn("on_record", "int"),
    *[c for change in ("added", "updated", "deleted")
      for c in (dg.TableColumn(change, "int"), dg.TableColumn(f"{change}_percent", "float"))],
])


@dg.asset(
    partitions_def=sync_partitions, group_name="roster_sync", kinds={"duckdb"},
    check_specs=[dg.AssetCheckSpec(
        SYNC_HOLD, asset="roster_changes", blocking=True,
        description="Fails, holding the sync for approval, when it is a preview or when an entity's added, updated "
                    "or deleted records exceed the integration's sync hold threshold (default: more than 10% "
                    "deleted or 75% updated). While held nothing is committed or delivered.")],
)
def roster_changes(context: dg.AssetExecutionContext, normalized_rosters: dict, golden_store: GoldenStoreResource,
                   integrations: IntegrationsResource):
    """Per entity: records added, updated (with the fields that changed) and deleted. Full mode
    deletes what a complete file no longer has; deleting a user or class ends its enrollments.
    Then the duplicate people among what the sync adds or changes, by the integration's domains
    of uniqueness: merged unattended, or queued for review. A held sync becomes a `held`
    version, committed only when someone approves it."""
    district, school_year = partition_of(context)
    integration = integrations.load(district)
    store = golden_store.store()
    normalized = [NormalizedSource(**n) for n in normalized_rosters["normalized"]]
    changes = compute_changes(normalized, district=district, school_year=school_year, store=store,
                              reconciliation=integration.reconciliation,
                              source_order=[s.name for s in integration.sources],
                              deletions=integration.change_control.deletions and not skips_deletions(context.run.tags))
    payload = {**normalized_rosters, "changes": changes.__dict__}
    decision = decide_hold(changes.counts, store.count_records(district, school_year), integration.change_control,
                           preview=is_preview(context.run.tags))
    held = None
    if decision.held:
        run_id = context.run.run_id
        info = commit_info(payload, district=district, school_year=school_year, run_id=run_id,
                           committed_by=started_by(context.run.tags))
        held = SyncHolds(store).hold(info, changes.counts, decision.as_dict(),
                                     stash(payload, district=district, school_year=school_year, run_id=run_id))
        payload["held_version"] = {"id": held.id, "number": held.number}
        context.log.warning(f"{district} {school_year}: sync held as version {held.number}: "
                            + "; ".join(decision.reasons))
    table = [dg.TableRecord({"entity": e, **c}) for e, c in changes.counts.items()]
    yield dg.Output(
        payload,
        metadata={
            "changes": dg.MetadataValue.table(table, schema=dg.TableSchema(columns=[
                dg.TableColumn("entity", "string"), dg.TableColumn("added", "int"),
                dg.TableColumn("updated", "int"), dg.TableColumn("deleted", "int")])),
            "total_changes": sum(sum(c.values()) for c in changes.counts.values()),
            "base_version_id": changes.base_version_id or 0,
            **({"duplicates": dg.MetadataValue.json(changes.duplicates)} if changes.duplicates else {}),
            **({"held_version": held.number} if held else {}),
        },
    )
    yield dg.AssetCheckResult(
        check_name=SYNC_HOLD, passed=not decision.held, severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "held": decision.held,
            "reasons": dg.MetadataValue.json(decision.reasons),
            "entities": dg.MetadataValue.table([dg.TableRecord(r) for r in decision.entities], schema=_HOLD_SCHEMA),
            **({"version": held.number,
                "approve": f"passport approve {district} {held.number} --school-year {school_year} --by EMAIL",
                "reject": f"passport reject {district} {held.number} --school-year {school_year} --by EMAIL"}
               if held else {}),
        },
    )
