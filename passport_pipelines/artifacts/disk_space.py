"""A full disk, said as such: "no space left on device while writing <what>", not a library's traceback.

Every library words it its own way: OSError ENOSPC (or EDQUOT, a full quota), DuckDB's "No space
left on device", SQLite's "database or disk is full", wrapped by SQLAlchemy or Dagster. A full disk
under a SQLite write-ahead log even comes back as a bare "disk I/O error", which is told apart by
looking at the disk.
"""

from __future__ import annotations

import errno
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
_PHRASES = ("No space left on device", "database or disk is full", "Disk quota exceeded")
_SQLITE_IO = "disk I/O error"
# Free space below which SQLite's bare I/O error is taken for a full disk.
_NEARLY_FULL = 1 << 20


class DiskFullError(RuntimeError):
    """The disk filled up; the message says what was being written, and where."""

    def __init__(self, what: str, where: Path | str, after: str = "") -> None:
        super().__init__(f"no space left on device while writing {what} ({where}){after}")


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def nearly_full(where: Path) -> bool:
    """Whether the disk holding ``where`` (or its nearest existing parent) has less than 1 MiB free."""
    for folder in (where, *where.parents):
        if folder.exists():
            return shutil.disk_usage(folder).free < _NEARLY_FULL
    return False


def is_disk_full(exc: BaseException, where: Path | None = None) -> bool:
    """Whether ``exc`` (or what caused it) means the disk is full. With ``where`` (the folder the
    failing write went to), SQLite's bare "disk I/O error" counts when that disk is nearly full."""
    for error in _chain(exc):
        if isinstance(error, DiskFullError) or isinstance(error, OSError) and error.errno in _NO_SPACE:
            return True
        text = str(error)
        if any(phrase in text for phrase in _PHRASES):
            return True
        if where is not None and _SQLITE_IO in text and nearly_full(where):
            return True
    return False


def disk_full_message(exc: BaseException, homes: tuple[Path, ...]) -> str:
    """What a full disk stopped, for a command's one-line error: the file being written when the
    error names it, else the databases and files under ``homes``."""
    for error in _chain(exc):
        if isinstance(error, DiskFullError):
            return str(error)
        if isinstance(error, OSError) and error.filename:
            return f"no space left on device while writing {error.filename}; free space on that disk and try again"
    where = " or ".join(str(h) for h in dict.fromkeys(homes))
    return (f"no space left on device while writing the run's records (the SQLite databases and files under "
            f"{where}); free space on that disk and try again")


@contextmanager
def writing(what: str, where: Path, *, release: Path | None = None, after: str = "") -> Iterator[None]:
    """Turn a full disk inside the block into DiskFullError naming ``what`` and ``where``. ``release``
    is removed first: the partial files of a run that is failing, so that the run's failure can
    still be recorded on that disk."""
    try:
        yield
    except Exception as exc:
        if not is_disk_full(exc, where):
            raise
        if release is not None:
            shutil.rmtree(release, ignore_errors=True)
        if isinstance(exc, DiskFullError):
            raise  # already says what was being written
        raise DiskFullError(what, where, after) from None
