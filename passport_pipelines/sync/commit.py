"""Stage 4, golden records: the change set committed to the golden store as one version."""

from __future__ import annotations

from datetime import datetime
from typing import Callable, Sequence

from passport_pipelines.store.golden_store import CommitInfo, GoldenStore, Version
from passport_pipelines.sync.changes import RosterChanges, load_change_set


def commit_changes(changes: RosterChanges, *, district: str, school_year: str, run_id: str | None, mode: str,
                   committed_by: str, started_at: datetime, filtered: dict, sources: dict,
                   archive_path: str | None, store: GoldenStore,
                   also: Sequence[Callable] = ()) -> Version:
    """``also``: further writes in the commit's transaction (``GoldenStore.commit``)."""
    change_set = load_change_set(changes)
    return store.commit(change_set, CommitInfo(
        district=district, school_year=school_year, run_id=run_id, mode=mode, committed_by=committed_by,
        started_at=started_at, base_version_id=changes.base_version_id, filtered=filtered, sources=sources,
        archive_path=archive_path,
    ), also=also)
