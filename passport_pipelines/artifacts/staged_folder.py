"""A folder written whole or not at all: filled under a hidden name, then swapped in for the old one.

A crash midway leaves the previous folder as it was (and at most a hidden staging folder), never a
mix of old and new files for the next reader.
"""

from __future__ import annotations

import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def staged_folder(folder: Path) -> Iterator[Path]:
    """Yield an empty staging folder next to ``folder``; on success it replaces ``folder``."""
    staging = folder.with_name(f".{folder.name}.{uuid.uuid4().hex[:8]}")
    staging.mkdir(parents=True, exist_ok=True)
    try:
        yield staging
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
