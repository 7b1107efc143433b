"""Roster changes: what this sync adds, updates and deletes against the last committed version,
and whether it must wait for a person's approval."""

from dataclasses import replace
from pathlib import Path

import dagster as dg

from passport_pipelines.assets.change_review_metadata import change_review_metadata
from passport_pipelines.assets.sync_outcome import approval_instructions, tag_outcome
from passport_pipelines.changes.change_set_seal import seal
from passport_pipelines.changes.commit import commit_info
from passport_pipelines.changes.handoff import HeldVersion, SyncChanges
from passport_pipelines.changes.held_changes import stash
from passport_pipelines.changes.hold import decide_hold
from passport_pipelines.changes.roster_changes import compute_changes
from passport_pipelines.config.source_identity import identities
from passport_pipelines.jobs.asset_groups import CHANGES, sync_asset
from passport_pipelines.jobs.partitions import partition_of, sync_check, sync_partitions
from passport_pipelines.jobs.run_tags import HELD, UNCHANGED_PREVIEW, is_preview, skips_deletions, started_by
from passport_pipelines.normalize.handoff import NormalizedRosters
from passport_pipelines.normalize.row_accounting import merge_accounts
from passport_pipelines.resources.golden_store import GoldenStoreResource
from passport_pipelines.resources.integrations import IntegrationsResource
from passport_pipelines.store.golden_snapshots import record_counts
from passport_pipelines.store.sync_holds import SyncHolds

SYNC_HOLD = "sync_hold"

_HOLD_SCHEMA = dg.TableSchema(columns=[
    dg.TableColumn("entity", "string"), dg.TableColumn("on_record", "int"),
    *[c for change in ("added", "updated", "deleted")
      for c in (dg.TableColumn(change, "int"), dg.TableColumn(f"{change}_percent", "float"))],
    dg.TableColumn("rekeyed", "int"),
])
CHANGES_SCHEMA = dg.TableSchema(columns=[
    dg.TableColumn("entity", "string"), dg.TableColumn("added", "int"),
    dg.TableColumn("updated", "int"), dg.TableColumn("deleted", "int")])


def changes_table(counts: dict[str, dict[str, int]]) -> dg.MetadataValue:
    return dg.MetadataValue.table([dg.TableRecord({"entity": e, **c}) for e, c in counts.items()],
                                  schema=CHANGES_SCHEMA)


@dg.asset(
    **sync_asset(CHANGES), partitions_def=sync_partitions, kinds={"duckdb"},
    # sync_hold stays inside the asset: it is the decision this asset acts on (a held version is
    # created and the change set stashed before the output is handed on), taken against the golden
    # store as it was before this sync's commit; evaluated again later it would judge another state.
    check_specs=[sync_check(
        SYNC_HOLD, asset="roster_changes",
        description="Holds the sync for approval when it is a preview, when a source's identity settings "
                    "(name, type, sis_id_prefix, schools mapping) changed since the last version (its approval "
                    "re-keys the source's records), or when an entity's added, updated or "
                    "deleted records exceed the integration's sync hold threshold (default: more than 10% "
                    "deleted or 75% updated), or when the drop's references leave out more than its left_out "
                    "share of an entity's rows read (default 10%; a first sync too), or would empty an entity "
                    "that has records on record. A held sync is not an error: this check warns, the run ends "
                    "tagged passport/status=held, and golden_records and the deliveries wait for approve_sync "
                    "(or reject_sync); the metadata says what to paste.")],
)
def roster_changes(context: dg.AssetExecutionContext, normalized_rosters: NormalizedRosters,
                   golden_store: GoldenStoreResource, integrations: IntegrationsResource):
    """Per entity: records added, updated (with the fields that changed) and deleted. Full mode
    deletes what a complete file no longer has; deleting a user or class ends its enrollments.
    Then the duplicate people among what the sync adds or changes, by the integration's domains
    of uniqueness: merged unattended, or queued for review. A held sync becomes a `held`
    version, committed only when someone approves it. A preview run (preview_sync, passport sync
    --preview) that would change nothing holds nothing and commits nothing."""
    district, school_year = partition_of(context)
    integration = integrations.load(district)
    store = golden_store.store()
    run_id = context.run.run_id
    extracts = normalized_rosters.extracts
    changes = compute_changes(list(normalized_rosters.normalized), district=district, school_year=school_year,
                              run_id=run_id, store=store,
                              reconciliation=integration.reconciliation,
                              source_order=[s.name for s in integration.sources],
                              deletions=integration.change_control.deletions and not skips_deletions(context.run.tags),
                              district_schools={s.name: [d.id for d in integration.schools]
                                                for s in integration.sources if s.schools is not None},
                              identities=identities(integration), district_school_list=integration.schools)
    # The commit checks this seal: it commits this run's change set of this run's drops, or nothing.
    seal(Path(changes.folder), run_id=run_id, archives={s.source: s.archive for s in extracts.sources})
    on_record = record_counts(store, district, school_year)
    # Each source's identity settings, recorded with the version: what the next sync compares.
    sync = SyncChanges(run_id=run_id, started_at=extracts.started_at, sources=extracts.sources,
                       normalized=normalized_rosters.normalized, changes=changes, on_record=on_record,
                       identities={n: i.as_dict() for n, i in identities(integration).items()})
    decision = decide_hold(changes.counts, on_record, integration.change_control, preview=is_preview(context.run.tags),
                           accounting=merge_accounts(normalized_rosters.accounting),
                           identity=[c["reason"] for c in changes.identity_changes], rekeyed=changes.rekeyed)
    changed = any(any(c.values()) for c in changes.counts.values())
    held = None
    if decision.held:
        info = commit_info(sync, district=district, school_year=school_year, run_id=run_id,
                           committed_by=started_by(context.run.tags))
        stashed = stash(sync, district=district, school_year=school_year, run_id=run_id)
        held = SyncHolds(store).hold(info, changes.counts, decision.as_dict(), stashed.held_change_set())
        sync = replace(sync, held_version=HeldVersion(held.id, held.number))
        tag_outcome(context, HELD, version=held.number)
        context.log.warning(f"{district} {school_year}: sync held as version {held.number}: "
                            + "; ".join(decision.reasons))
    elif is_preview(context.run.tags) and not changed:
        # A preview run asked to change nothing without a person's say: with nothing to hold, it
        # commits nothing either. (A district whose file says `preview: true` syncs unchanged data
        # as any sync does: a version with no changes, in its history.)
        sync = replace(sync, commit=False)
        tag_outcome(context, UNCHANGED_PREVIEW)
        context.log.info(f"{district} {school_year}: preview found nothing to change: nothing is held, "
                         "committed or delivered")
    yield dg.Output(
        sync,
        metadata={
            "changes": changes_table(changes.counts),
            "total_changes": sum(sum(c.values()) for c in changes.counts.values()),
            "base_version_id": changes.base_version_id or 0,
            **({"duplicates": dg.MetadataValue.json(changes.duplicates)} if changes.duplicates else {}),
            **({"held_version": held.number} if held else {}),
        },
    )
    yield dg.AssetCheckResult(
        check_name=SYNC_HOLD, passed=not decision.held, severity=dg.AssetCheckSeverity.WARN,
        description=(f"held as version {held.number}: " + "; ".join(decision.reasons)) if held
        else "nothing to hold: the preview would change nothing" if not sync.commit
        else "within the sync hold threshold",
        metadata={
            "held": decision.held,
            "reasons": dg.MetadataValue.json(decision.reasons),
            "entities": dg.MetadataValue.table([dg.TableRecord(r) for r in decision.entities], schema=_HOLD_SCHEMA),
            **(approval_instructions(district, school_year, held.number) if held else {}),
            **(change_review_metadata(store, held) if held else {}),
        },
    )
