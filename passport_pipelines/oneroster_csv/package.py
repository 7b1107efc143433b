"""A OneRoster CSV package: a folder or a zip file of CSVs, looked up by file name."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath


class PackageError(ValueError):
    pass


@dataclass
class Package:
    """Names are matched case-insensitively, since hand-made drops spell them freely."""

    origin: Path
    members: dict[str, str]  # lower-case file name -> path inside the folder or zip

    @classmethod
    def open(cls, path: Path) -> "Package":
        path = Path(path)
        if path.is_dir():
            members = {p.name.lower(): str(p) for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".csv"}
        elif path.is_file() and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                members = {}
                for name in zf.namelist():
                    base = PurePosixPath(name).name
                    if base.lower().endswith(".csv") and not name.startswith("__MACOSX/"):
                        members[base.lower()] = name
        elif path.exists():
            raise PackageError(f"{path}: not a folder or a zip file")
        else:
            raise PackageError(f"{path}: no such folder or zip file")
        return cls(path, members)

    def has(self, filename: str) -> bool:
        return filename.lower() in self.members

    def read_bytes(self, filename: str) -> bytes:
        member = self.members[filename.lower()]
        if self.origin.is_dir():
            return Path(member).read_bytes()
        with zipfile.ZipFile(self.origin) as zf:
            return zf.read(member)
