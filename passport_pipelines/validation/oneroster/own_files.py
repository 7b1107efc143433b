"""A folder drop is only its own files: which entries of it may be opened, and opening them safely.

A CSV in the folder that is a symbolic link could point anywhere on this machine (the service's
environment, /etc/shadow), and reading it would copy that file into the sync's archive and its
first line into the validation report. The same goes for a hard link, a regular file with more
than one name: its other name could be any file the service can read, and nothing tells where it
is, so such a file is refused too. Devices, FIFOs and sockets are not files at all (reading one can
block forever). Each is refused with a finding and never opened.

The listing and the opening are two moments: a file could be swapped for a link in between. So a
file is opened without following links (``O_NOFOLLOW``, non-blocking so a FIFO cannot hang the
open) and checked again on the opened descriptor (``fstat``), which is the file actually read.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from passport_pipelines.validation.oneroster.findings import Finding

_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


class NotOwnFile(Exception):
    """The entry is not one of the drop's own files; ``finding`` says what it is."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def refusal(name: str, st: os.stat_result) -> Finding | None:
    """Why the entry ``name`` (its lstat, or the fstat of its descriptor) is not read; None for a
    regular file with a single name."""
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        return symlink_finding(name)
    if stat.S_ISREG(mode):
        if st.st_nlink > 1:
            return Finding(name, None, None, None, "package.hard_link", "error",
                           f"{name} is a hard link ({st.st_nlink} names on disk): its other name could be any "
                           "file on this machine and nothing tells where it is, so it is not read (copy the "
                           "file into the drop instead of linking it)")
        return None
    return Finding(name, None, None, None, "package.special_file", "error",
                   f"{name} is {_kind(mode)}, not a regular file: a drop holds only regular files, so it is "
                   "not read")


def symlink_finding(name: str) -> Finding:
    return Finding(name, None, None, None, "package.symlink", "error",
                   f"{name} is a symbolic link: a drop holds only its own files, so it is not followed or "
                   "read (put the file itself in the drop)")


def open_own_file(path: Path):
    """The regular, single-named file at ``path``, opened for reading in binary (never through a link).

    Raises NotOwnFile when it is anything else, whatever it was when the folder was listed."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # O_NOFOLLOW met a symbolic link
            raise NotOwnFile(symlink_finding(path.name)) from None
        raise
    try:
        problem = refusal(path.name, os.fstat(fd))
    except BaseException:
        os.close(fd)
        raise
    if problem is not None:
        os.close(fd)
        raise NotOwnFile(problem)
    return os.fdopen(fd, "rb")
