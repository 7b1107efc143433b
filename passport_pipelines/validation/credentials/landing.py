"""Where a drop of secrets waits to be sealed: a private folder under ``$PASSPORT_HOME``, never the
system temp folder, and never left behind.

An SSO credentials drop is copied (or downloaded) as it is, passwords in plain text, validated,
and sealed (``seal.py``); only the sealed copy is archived. Until then its files sit in
``$PASSPORT_HOME/landing/<run>-<source>-<random>/`` (0700, files 0600). The folder is removed when
the extract is done, whatever the outcome. A process killed outright (SIGKILL, the OOM killer, a
power cut) cannot clean up after itself, so every folder there is held under an exclusive
``flock`` by the process filling it: the kernel drops the lock with the process, and the next
extract of any drop on this ``PASSPORT_HOME`` (and every ``passport`` command) removes each
folder whose lock it can take. A live sync's folder is never touched.

Versions before this landed the files in the system temp folder as ``passport-sealed-*``, where
a killed sync left them for anyone to read; those leftovers (of the current user) are removed too.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from passport_pipelines import settings
from passport_pipelines.file_modes import make_private

LEGACY_PREFIX = "passport-sealed-"
# A folder being set up (dot-named until its lock is held) is left alone this long.
SETUP_GRACE_SECONDS = 60.0


def landing_root() -> Path:
    return settings.passport_home() / "landing"


def _lock(folder: Path, *, wait: bool) -> int | None:
    """An open descriptor of ``folder`` holding its exclusive lock; None when another process holds it."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd


def sweep_abandoned_landings() -> list[Path]:
    """Remove the landing folders no live process holds, and legacy temp leftovers; returns them."""
    removed = []
    root = landing_root()
    entries = list(root.iterdir()) if root.is_dir() else []
    for folder in entries:
        try:
            fd = _lock(folder, wait=False)
        except (FileNotFoundError, NotADirectoryError):
            continue
        if fd is None:
            continue  # a live sync is using it
        try:
            if folder.name.startswith(".") and time.time() - folder.stat().st_mtime < SETUP_GRACE_SECONDS:
                continue  # just made by a process about to lock it
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        finally:
            os.close(fd)
    for folder in Path(tempfile.gettempdir()).glob(f"{LEGACY_PREFIX}*"):
        try:
            if folder.is_dir() and folder.stat().st_uid == os.getuid():
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
        except OSError:
            continue
    return removed


@contextmanager
def secret_landing(run_id: str, source: str) -> Iterator[Path]:
    """A fresh private folder for one source's drop of secrets, removed on the way out."""
    root = landing_root()
    root.mkdir(parents=True, exist_ok=True)
    make_private(root)
    sweep_abandoned_landings()
    # Made under a dot name, locked, then renamed: a sweep never sees an unlocked folder by its
    # final name, and the lock (held on the folder itself) survives the rename.
    staging = Path(tempfile.mkdtemp(prefix=f".{run_id[:12]}-{source}-", dir=root))
    fd = _lock(staging, wait=True)
    assert fd is not None
    folder = staging.with_name(staging.name[1:])
    try:
        staging.rename(folder)
        yield folder
    finally:
        shutil.rmtree(folder if folder.exists() else staging, ignore_errors=True)
        os.close(fd)
