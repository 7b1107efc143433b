"""Stage 4, golden records: the change set committed to the golden store as one version."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from passport_pipelines.changes.change_set_seal import verify
from passport_pipelines.changes.handoff import SyncChanges
from passport_pipelines.changes.roster_changes import RosterChanges, load_change_set
from passport_pipelines.normalize.rules.counts import rule_counts
from passport_pipelines.store.duplicate_review import findings_writer
from passport_pipelines.store.golden_snapshots import SnapshotBuild
from passport_pipelines.store.golden_store import CommitInfo, GoldenStore, Version
from passport_pipelines.store.rekeyed_decisions import rekey_writer
from passport_pipelines.validation.credentials.store import credential_writes

log = logging.getLogger(__name__)


def commit_info(sync: SyncChanges, *, district: str, school_year: str, run_id: str | None,
                committed_by: str) -> CommitInfo:
    """What the version row says about a sync."""
    sources = sync.sources
    fingerprints = {n.source: n.fingerprint for n in sync.normalized}
    rules = {n.source: rule_counts(n.rules or {}) for n in sync.normalized}
    # Imported without deletions: said in the history, and the next sync does not take it as complete.
    skipped = {} if sync.changes.deletions else {"deletions": False}
    # Its identity settings: the next sync re-keys the source if they changed (``changes/identity.py``).
    identities = sync.identities
    return CommitInfo(
        district=district, school_year=school_year, run_id=run_id,
        mode="+".join(sorted({s.upload_mode for s in sources})), committed_by=committed_by,
        started_at=datetime.fromisoformat(sync.started_at),
        base_version_id=sync.changes.base_version_id,
        filtered={s.source: s.filtered for s in sources},
        sources={s.source: {"type": s.source_type, "schema": s.schema, "mode": s.upload_mode,
                            "files": s.file_modes, "fingerprint": fingerprints.get(s.source),
                            "cursor": s.cursor, **skipped,
                            **({"identity": identities[s.source]} if s.source in identities else {}),
                            **({"rules": rules[s.source]} if rules.get(s.source) else {})}
                 for s in sources},
        archive_path=str(sources[0].archive).rsplit("/", 1)[0] if sources else None,
    )


def commit_sync(sync: SyncChanges, info: CommitInfo, store: GoldenStore, *,
                approved_version_id: int | None = None) -> tuple[Version, dict]:
    """Commit a sync's change set, with what lands in the same transaction: SSO credentials, the
    duplicate decisions of re-keyed records moved to their new keys, and the duplicate people it found.
    Returns the version and the credential counts (never a secret).
    ``approved_version_id``: the held version this change set was stashed for, now approved."""
    changes = sync.changes
    # Nothing is written unless the change set is the one this sync computed from the drops it archived.
    verify(Path(changes.folder), run_id=sync.run_id, archives=sync.archives())
    credentials = credential_writes(sync.sources, district=info.district, school_year=info.school_year)
    duplicates = [findings_writer(Path(changes.duplicates_folder), district=info.district,
                                  school_year=info.school_year, committed_by=info.committed_by)
                  ] if changes.duplicates_folder else []
    # Before this sync's own findings: they name records by their new keys already.
    rekeyed = [rekey_writer([Path(changes.folder) / s for s in changes.sources], district=info.district,
                            school_year=info.school_year)] if changes.identity_changes else []
    build = _snapshot_build(store, info, changes)
    try:
        version = store.commit(load_change_set(changes), info, also=[*credentials, *rekeyed, *duplicates],
                               approved_version_id=approved_version_id)
    except BaseException:
        build.discard()
        raise
    try:
        build.finish(version)
    except Exception as exc:  # noqa: BLE001 - the committed version stands; only the shortcut is missing
        log.warning("%s %s version %s: no snapshot for delivery (%s); deliveries read the golden store",
                    version.district, version.school_year, version.number, type(exc).__name__)
    return version, {w.source: w.counts for w in credentials}


def _snapshot_build(store: GoldenStore, info: CommitInfo, changes: RosterChanges) -> SnapshotBuild:
    """The version's columnar snapshot for its deliveries (``store/golden_snapshots.py``), built while
    the store commits. Without one a delivery reads the store instead."""
    def files(kind: str, entity: str) -> list[Path]:
        return [Path(changes.folder) / source / f"{kind}__{entity}.parquet" for source in changes.sources]

    counts = {} if changes.unchanged else changes.counts
    upserts = {e: files("upserts", e) for e, c in counts.items() if c.get("added", 0) + c.get("updated", 0)}
    deletes = {e: files("deletes", e) for e, c in counts.items() if c.get("deleted", 0)}
    return SnapshotBuild(store, info.district, info.school_year, changes.base_version_id, upserts, deletes)
