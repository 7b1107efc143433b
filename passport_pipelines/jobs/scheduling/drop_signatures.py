"""What tells a new CSV drop: the names, sizes and modification times of its files, at the
location of the school year the sync would be for (a source may name one location per year).

A drop counts once it has settled (no file changed for ``SETTLE_SECONDS``), so a drop still
being uploaded file by file is not synced half-written.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

from passport_pipelines.config.integration import Integration
from passport_pipelines.config.sources import CsvFolderSource, SftpSource
from passport_pipelines.sources.drops.locations import drop_for_year
from passport_pipelines.sources.drops.sftp import list_sftp_drop

SETTLE_SECONDS = 60.0


@dataclass(frozen=True)
class DropSignature:
    source: str
    digest: str  # of (name, size, mtime) of every file: a new drop, a new digest
    files: int
    newest: float  # the latest modification time, epoch seconds

    def settled(self, now: float | None = None, settle_seconds: float = SETTLE_SECONDS) -> bool:
        return self.files > 0 and (now or time.time()) - self.newest >= settle_seconds


def _digest(entries: list[tuple[str, int, float]]) -> str:
    text = "\n".join(f"{name}\t{size}\t{mtime:.3f}" for name, size, mtime in sorted(entries))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _local_files(path: Path) -> list[tuple[str, int, float]]:
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = [p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")]
    else:
        return []
    return [(p.relative_to(path).as_posix() if p != path else p.name, p.stat().st_size, p.stat().st_mtime)
            for p in files]


def drop_signature(integration: Integration, source: CsvFolderSource | SftpSource, school_year: str) -> DropSignature:
    """The signature of the drop the source would read now for ``school_year``, at that year's
    location (raises DropFetchError for SFTP, and for a year a map of locations does not name)."""
    source = drop_for_year(source, school_year)
    if isinstance(source, SftpSource):
        entries = list_sftp_drop(source, integration)
    else:
        entries = _local_files(integration.resolve_path(source.path))
    return DropSignature(source=source.name, digest=_digest(entries), files=len(entries),
                         newest=max((m for _, _, m in entries), default=0.0))
