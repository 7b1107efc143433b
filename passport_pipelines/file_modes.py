"""Everything the hub writes is for its own user only: files 0600, folders 0700, whatever the umask.

The golden store, the archived drops, the intermediate Parquet tables, validation reports, exports
and Dagster's own run logs all hold student data (and an archive may hold a district's SSO
credentials, sealed). A shared server's default umask (022) would leave them readable by every
account on the machine.

Rather than chasing every writer (SQLite, DuckDB, pyarrow, Dagster's storage, paramiko...), every
process that loads this package narrows its umask to 077 at import: the ``passport`` CLI, the
Dagster code server, and each run worker (they all import the code location). Whatever any of
them creates is then private. The umask is only ever narrowed: a stricter one is kept.

Two things the umask does not cover are handled where they happen:

- a copy that carries its source's permissions along (``shutil.copy2`` copies the mode): drops
  are copied with ``copy_privately``;
- folders made before this rule (or by a process started without it): ``make_private`` narrows
  them, and the CLI narrows ``PASSPORT_HOME`` and ``DAGSTER_HOME`` themselves on every start, so
  nothing inside can be reached by another account even if older files kept a wider mode.

Dagster processes that do not import the package (``dagster-webserver``, ``dagster-daemon``) write
the instance's run and schedule storage; start them with ``umask 077`` (``make ui`` does).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

PRIVATE_UMASK = 0o077
PRIVATE_FOLDER = 0o700


def narrow_umask() -> None:
    """Make this process create private files and folders from now on (never widening a umask)."""
    current = os.umask(PRIVATE_UMASK)
    os.umask(current | PRIVATE_UMASK)


def make_private(folder: Path) -> None:
    """``folder`` readable by its owner only, when it exists and is ours to change."""
    try:
        if folder.is_dir() and folder.stat().st_uid == os.getuid():
            os.chmod(folder, PRIVATE_FOLDER)
    except OSError:
        pass  # not ours, or gone: nothing to narrow


def copy_privately(source: Path, target: Path) -> None:
    """Copy a file's bytes and times, not its permissions: the copy is created under the umask."""
    shutil.copyfile(source, target)
    stat = os.stat(source)
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
