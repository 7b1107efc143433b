"""A CSV drop as a package: a folder or a zip file of CSVs, looked up by file name.

Names are matched case-insensitively, since hand-made drops spell them freely; two files whose
names differ only by case are therefore a finding, and neither is read.

A drop is only its own files (``own_files.py`` for a folder, ``zip_members.py`` for a zip): what
is not one of them is listed in ``refused`` with its finding and never opened. The package's own
path may be a symbolic link: that is where the integration file (or the operator) points.
Reading is bounded by ``PackageLimits``: a drop too big to read is refused whole, before anything
is read into memory.
"""

from __future__ import annotations

import os
import shutil
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from passport_pipelines.config.package_limits import DEFAULT_LIMITS, PackageLimits, size_text
from passport_pipelines.validation.oneroster.findings import Finding, FindingsReport
from passport_pipelines.validation.oneroster.own_files import NotOwnFile, open_own_file, refusal
from passport_pipelines.validation.oneroster.zip_members import (
    MemberUnreadable,
    ZipRefused,
    declared_entries,
    read_member,
    zip_layout,
)

_COPY_CHUNK = 1 << 20


class PackageError(ValueError):
    """The path is not a package that can be read at all; ``findings`` say why."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__("; ".join(f.message for f in findings))
        self.findings = findings


def _open_error(file: str, message: str) -> PackageError:
    return PackageError([Finding(file, None, None, None, "package.open", "error", message)])


def _damaged_zip(path: Path, why: str) -> PackageError:
    # Named by file name, not path: the same drop gives the same finding wherever it is validated.
    return _open_error(path.name, f"{path.name} is not a readable zip file{why}: it is damaged or incomplete, "
                                  "send it again")


@dataclass
class Package:
    origin: Path
    members: dict[str, str]  # lower-case file name -> path inside the folder or member of the zip
    limits: PackageLimits = DEFAULT_LIMITS
    refused: list[Finding] = field(default_factory=list)  # entries that are not the drop's own files
    is_zip: bool = False

    @classmethod
    def open(cls, path: Path, limits: PackageLimits = DEFAULT_LIMITS) -> "Package":
        path = Path(path)
        if path.is_dir():
            return _open_folder(path, limits)
        if path.is_file() and zipfile.is_zipfile(path):
            return _open_zip(path, limits)
        if path.is_file() and path.suffix.lower() == ".zip":
            raise _damaged_zip(path, "")
        if path.exists():
            raise _open_error(str(path), f"{path}: not a folder or a zip file")
        raise _open_error(str(path), f"{path}: no such folder or zip file")

    def has(self, filename: str) -> bool:
        return filename.lower() in self.members

    def read(self, filename: str, report: FindingsReport) -> bytes | bytearray | None:
        """The file's bytes; None (with a finding in ``report``) when it cannot be read after all."""
        member = self.members[filename.lower()]
        try:
            if self.is_zip:
                with zipfile.ZipFile(self.origin) as zf:
                    return read_member(zf, zf.getinfo(member))
            with open_own_file(Path(member)) as fh:
                size = os.fstat(fh.fileno()).st_size
                if size > self.limits.max_total_size:
                    report.add(_too_large(Path(member).name, size, self.limits))
                    return None
                return fh.read(size)
        except (NotOwnFile, MemberUnreadable) as exc:
            report.add(exc.finding)
            return None

    def copy_files(self, dest: Path) -> None:
        """Copy a folder package's files into ``dest`` under their own names, streamed (never whole in
        memory) through the same checks as ``read``; a file refused now is added to ``refused``."""
        budget = self.limits.max_total_size
        for lower in sorted(self.members):
            source = Path(self.members[lower])
            try:
                with open_own_file(source) as fh:
                    st = os.fstat(fh.fileno())
                    if st.st_size > budget:
                        raise PackageError([_too_large(source.name, st.st_size, self.limits)])
                    budget -= st.st_size
                    target = dest / source.name
                    with open(target, "wb") as out:
                        shutil.copyfileobj(_bounded(fh, st.st_size), out, _COPY_CHUNK)
                    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
            except NotOwnFile as exc:
                self.refused.append(exc.finding)
                del self.members[lower]


class _bounded:
    """A reader that stops at ``size`` bytes: a file growing while it is copied adds nothing."""

    def __init__(self, fh, size: int) -> None:
        self.fh, self.left = fh, size

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        chunk = self.fh.read(n) if n else b""
        self.left -= len(chunk)
        return chunk


def _too_large(name: str, size: int, limits: PackageLimits) -> Finding:
    return Finding(name, None, None, None, "package.too_large", "error",
                   f"{name} holds {size_text(size)} of CSV, more than limits.max_total_size "
                   f"({size_text(limits.max_total_size)}); nothing was read")


def _open_folder(path: Path, limits: PackageLimits) -> Package:
    with os.scandir(path) as listing:
        entries = sorted((e for e in listing if e.name.lower().endswith(".csv")), key=lambda e: e.name)
    if len(entries) > limits.max_files:
        raise PackageError([Finding(path.name, None, None, None, "package.too_many_files", "error",
                                    f"{path.name} has {len(entries)} CSV files, more than limits.max_files "
                                    f"({limits.max_files}); nothing was read")])
    refused: list[Finding] = []
    by_name: dict[str, list[os.DirEntry]] = {}
    total = 0
    for entry in entries:
        st = entry.stat(follow_symlinks=False)
        if stat.S_ISDIR(st.st_mode):
            continue  # subfolders are not part of a folder drop
        problem = refusal(entry.name, st)
        if problem is not None:
            refused.append(problem)
            continue
        by_name.setdefault(entry.name.lower(), []).append(entry)
        total += st.st_size
    if total > limits.max_total_size:
        raise PackageError([_too_large(path.name, total, limits)])
    members = {}
    for lower, same in by_name.items():
        if len(same) > 1:
            names = " and ".join(e.name for e in same)
            refused.append(Finding(same[0].name, None, None, None, "package.duplicate_name", "error",
                                   f"the folder holds {names}: file names are case-insensitive, so none of "
                                   "them is read (keep one)"))
            continue
        members[lower] = same[0].path
    return Package(path, members, limits, refused)


def _open_zip(path: Path, limits: PackageLimits) -> Package:
    with path.open("rb") as fh:
        entries = declared_entries(fh)
    if entries is not None and entries > limits.max_files:
        raise PackageError([Finding(path.name, None, None, None, "package.too_many_files", "error",
                                    f"{path.name} has {entries} entries, more than limits.max_files "
                                    f"({limits.max_files}); nothing was unpacked")])
    try:
        with zipfile.ZipFile(path) as zf:
            layout = zip_layout(zf, path.name, limits)
    except ZipRefused as exc:
        raise PackageError(exc.findings) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _damaged_zip(path, f" ({why})") from None
    members = {lower: info.filename for lower, info in layout.files.items()}
    return Package(path, members, limits, layout.refused, is_zip=True)
