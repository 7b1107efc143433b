"""A stage's output kept under the fingerprint of what it was computed from, for later syncs.

A run writes its tables into its own folder. When they depend on nothing but fingerprinted input,
it also files them under ``reuse/.../<fingerprint>/``: a folder that is complete when it appears
(renamed into place) and never changed after, except that files may be added (``add_file``). A later
run with the same fingerprint hard-links those files into its own folder: it reads its own copy,
which no other run can swap or remove under it, and pays nothing for the copy.

Two runs publishing the same fingerprint at once computed the same tables: the second rename loses,
and the first folder stands. Old fingerprints are removed when newer ones are filed (``KEEP``).
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from passport_pipelines.artifacts.fingerprints import read_stamp
from passport_pipelines.artifacts.layout import reuse_dir

# Fingerprints kept per stage and source: the last sync's, and one more for a sync that goes back
# to the drop before it.
KEEP = 2
STAMP = "stamp.json"


def link_reused(stage: str, district: str, school_year: str, source: str, fingerprint: str,
                target: Path) -> dict | None:
    """Link the output filed under ``fingerprint`` into ``target`` (which must not exist); returns
    its stamp, or None when there is none (nothing linked then)."""
    filed = reuse_dir(stage, district, school_year, source) / fingerprint
    if not (filed / STAMP).is_file():
        return None
    staging = _staging(target)
    try:
        # The stamp goes last and is read from the copy: if the folder went away midway (swept),
        # a link fails and nothing is reused.
        names = sorted(p.name for p in filed.iterdir() if p.is_file() and p.name != STAMP) + [STAMP]
        for name in names:
            _link_or_copy(filed / name, staging / name)
        stamp = read_stamp(staging)
        if not stamp or stamp.get("fingerprint") != fingerprint:
            raise FileNotFoundError(f"{filed}: stamp does not match")
        staging.rename(target)
        os.utime(filed)  # recently used: the sweep keeps the most recently used fingerprints
        return stamp
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        return None


def publish(stage: str, district: str, school_year: str, source: str, fingerprint: str, folder: Path) -> None:
    """File a run's finished ``folder`` (with its ``stamp.json``) under ``fingerprint``."""
    parent = reuse_dir(stage, district, school_year, source)
    parent.mkdir(parents=True, exist_ok=True)
    filed = parent / fingerprint
    if not filed.exists():
        staging = _staging(filed)
        try:
            for path in folder.iterdir():
                if path.is_file():
                    _link_or_copy(path, staging / path.name)
            staging.rename(filed)
        except OSError:
            # Another run filed the same fingerprint first (same tables), or the disk is full: the
            # run's own folder is what it uses either way.
            shutil.rmtree(staging, ignore_errors=True)
    _drop_old(parent, keep=filed.name)


def add_file(stage: str, district: str, school_year: str, source: str, fingerprint: str, path: Path) -> None:
    """Add a file computed later from the same input (e.g. a check's result) to a filed output."""
    filed = reuse_dir(stage, district, school_year, source) / fingerprint
    if not filed.is_dir():
        return
    tmp = filed / f".{path.name}.{uuid.uuid4().hex[:8]}"
    try:
        _link_or_copy(path, tmp)
        tmp.replace(filed / path.name)
    except OSError:
        tmp.unlink(missing_ok=True)


def _drop_old(parent: Path, *, keep: str) -> None:
    entries = sorted((p for p in parent.iterdir() if p.is_dir() and not p.name.startswith(".")),
                     key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [p for p in entries if p.name != keep][KEEP - 1:]:
        shutil.rmtree(old, ignore_errors=True)


def _staging(folder: Path) -> Path:
    staging = folder.with_name(f".{folder.name}.{uuid.uuid4().hex[:8]}")
    staging.mkdir(parents=True)
    return staging


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError as exc:
        if exc.errno not in (18, 1, 31, 95):  # EXDEV, EPERM, EMLINK, EOPNOTSUPP: copy instead
            raise
        shutil.copyfile(source, target)
