"""Where a held sync's change set waits for approval.

The intermediate folders of a district's year are rewritten by its next sync, so a held sync
copies what its commit will read (the change set, the duplicate findings, sealed SSO
credentials) to ``artifacts/held/<district>/<year>/<run id>/``. The version row keeps the held
change set (``changes/handoff.py``) with its paths pointing there; approval commits from it,
rejection deletes it.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from passport_pipelines import settings
from passport_pipelines.changes.handoff import SyncChanges
from passport_pipelines.validation.credentials.schema import SCHEMA as SSO_SCHEMA


def held_dir(district: str, school_year: str, run_id: str) -> Path:
    return settings.artifacts_dir() / "held" / district / school_year / run_id


def stash(sync: SyncChanges, *, district: str, school_year: str, run_id: str) -> SyncChanges:
    """Copy what the commit reads to the held folder; the sync's changes with their paths moved there."""
    root = held_dir(district, school_year, run_id)
    # This hold supersedes any earlier one of the district's year (``GoldenStore.supersede_awaiting``).
    discard_all(district, school_year)
    changes = sync.changes
    if Path(changes.folder).exists():
        shutil.copytree(changes.folder, root / "changes")
    changes = replace(changes, folder=str(root / "changes"), duplicates_folder=(
        str(root / "changes" / Path(changes.duplicates_folder).name) if changes.duplicates_folder else None))
    sources = []
    for s in sync.sources:
        if s.schema == SSO_SCHEMA and s.ok and s.folder:
            target = root / "sources" / s.source
            shutil.copytree(s.folder, target)
            s = replace(s, folder=str(target))
        sources.append(s)
    return replace(sync, changes=changes, sources=tuple(sources), held_folder=str(root))


def discard(held_changes: dict | None) -> None:
    """Delete a held change set (when it is rejected)."""
    folder = (held_changes or {}).get("held_folder")
    if folder and Path(folder).is_relative_to(settings.artifacts_dir() / "held"):
        shutil.rmtree(folder, ignore_errors=True)


def discard_all(district: str, school_year: str) -> None:
    """Delete every held change set of the district's year: a commit or a new hold supersedes them."""
    shutil.rmtree(settings.artifacts_dir() / "held" / district / school_year, ignore_errors=True)
