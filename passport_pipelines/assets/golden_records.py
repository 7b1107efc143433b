"""Golden records: the change set committed to the golden store as the next version."""


from datetime import datetime
from pathlib import Path

import dagster as dg

from passport_pipelines.credentials.store import credential_writes
from passport_pipelines.partitions import partition_of, sync_partitions
from passport_pipelines.resources.golden_store import GoldenStoreResource
from passport_pipelines.store.duplicate_review import findings_writer
from passport_pipelines.sync.changes import RosterChanges
from passport_pipelines.sync.commit import commit_changes

COMMITTED_BY_TAG = "passport/committed_by"


@dg.asset(partitions_def=sync_partitions, group_name="roster_sync", kinds={"sqlalchemy"})
def golden_records(context: dg.AssetExecutionContext, roster_changes: dict, golden_store: GoldenStoreResource):
    """The district's committed rosters with stable golden ids. Committed in one transaction:
    a failure leaves the store exactly as it was."""
    district, school_year = partition_of(context)
    sources = roster_changes["sources"]
    filtered = {s["source"]: s["filtered"] for s in sources}
    modes = sorted({s["upload_mode"] for s in sources})
    fingerprints = {n["source"]: n["fingerprint"] for n in roster_changes["normalized"]}
    # SSO credentials are written in the version's own transaction: both land, or neither.
    credentials = credential_writes(sources, district=district, school_year=school_year)
    committed_by = context.run.tags.get(COMMITTED_BY_TAG, "dagster")
    changes = RosterChanges(**roster_changes["changes"])
    # Duplicate people found by this sync: merges and review cases land with the version, or not at all.
    duplicates = [findings_writer(Path(changes.duplicates_folder), district=district, school_year=school_year,
                                  committed_by=committed_by)] if changes.duplicates_folder else []
    version = commit_changes(
        changes, district=district, school_year=school_year,
        run_id=context.run.run_id, mode="+".join(modes), committed_by=committed_by,
        started_at=datetime.fromisoformat(roster_changes["started_at"]), filtered=filtered,
        sources={s["source"]: {"type": s.get("source_type", "csv"), "schema": s["schema"], "mode": s["upload_mode"],
                               "files": s["file_modes"], "fingerprint": fingerprints.get(s["source"]),
                               "cursor": s.get("cursor")} for s in sources},
        archive_path=str(sources[0]["archive"]).rsplit("/", 1)[0] if sources else None,
        store=golden_store.store(), also=[*credentials, *duplicates],
    )
    context.log.info(f"committed {district} {school_year} version {version.number}")
    credential_counts = {w.source: w.counts for w in credentials}  # counts only: never a secret
    return dg.Output(
        version.as_dict(),
        metadata={"version": version.number, "status": version.status,
                  "changes": dg.MetadataValue.json(version.changes),
                  **({"sso_credentials": dg.MetadataValue.json(credential_counts)} if credentials else {})},
    )
