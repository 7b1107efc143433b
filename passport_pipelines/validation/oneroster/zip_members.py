"""Which members of a zip drop are its files, and unpacking one within the limits.

Members are matched by their exact path, never by base name (where ``../../../users.csv`` would
become users.csv and the last of two same-named files would win). The drop's CSV files must sit
together in one folder: the top of the zip, or the one folder they all share, as macOS and Windows
"compress folder" make. What is not one of them is a finding and is never unpacked:

- a path that is not plain and relative (``../``, ``/``, ``C:``, a backslash, ``.`` or empty parts);
- a CSV in another subfolder; two names that differ only by case (or the same name twice);
- a symbolic link or other special entry (the unix file type in the member's attributes);
- a password-protected member, one packed with a method Python cannot unpack, or one packed more
  than ``max_compression_ratio``:1 (a zip bomb).

macOS's ``__MACOSX/`` resource forks and folder entries are skipped. Sizes are checked on the zip's
central directory before anything is unpacked, and the number of entries even before Python's
zipfile reads that directory into memory.
"""

from __future__ import annotations

import lzma
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from passport_pipelines.config.package_limits import RATIO_FLOOR, PackageLimits, size_text
from passport_pipelines.validation.oneroster.findings import Finding

_CHUNK = 1 << 20
_SUPPORTED = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
# What unpacking a damaged member raises: a bad header or CRC, a cut stream, a password (RuntimeError).
_DAMAGED = (zipfile.BadZipFile, EOFError, OSError, RuntimeError, NotImplementedError, ValueError, zlib.error,
            lzma.LZMAError)
_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"


class ZipRefused(Exception):
    """The zip as a whole cannot be read; ``findings`` say why."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__("; ".join(f.message for f in findings))
        self.findings = findings


class MemberUnreadable(Exception):
    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


@dataclass
class ZipLayout:
    files: dict[str, zipfile.ZipInfo] = field(default_factory=dict)  # lower-case file name -> member
    refused: list[Finding] = field(default_factory=list)


def _error(file: str, rule: str, message: str) -> Finding:
    return Finding(file, None, None, None, rule, "error", message)


def declared_entries(fh) -> int | None:
    """The entry count in the zip's end-of-central-directory record (zip64 too); None if not found."""
    fh.seek(0, 2)
    size = fh.tell()
    tail_size = min(size, 22 + 0xFFFF)  # the record, and a comment of at most 64 KiB after it
    fh.seek(size - tail_size)
    tail = fh.read(tail_size)
    at = tail.rfind(_EOCD)
    if at < 0 or at + 22 > len(tail):
        return None
    entries = int.from_bytes(tail[at + 10:at + 12], "little")
    locator = at - 20
    if entries == 0xFFFF and locator >= 0 and tail[locator:locator + 4] == _ZIP64_LOCATOR:
        fh.seek(int.from_bytes(tail[locator + 8:locator + 16], "little"))
        record = fh.read(56)
        if record[:4] == _ZIP64_EOCD:
            entries = int.from_bytes(record[32:40], "little")
    return entries


def _unsafe_path(name: str) -> str | None:
    if "\\" in name:
        return "it has a backslash"
    if name.startswith("/"):
        return "it starts at the root"
    if re.match(r"^[A-Za-z]:", name):
        return "it starts with a drive letter"
    parts = name.rstrip("/").split("/")
    if ".." in parts:
        return "a '..' in it climbs out of the zip"
    if any(p in ("", ".") for p in parts):
        return "it has an empty or '.' part"
    if any(ord(c) < 32 for c in name):
        return "it has a control character"
    return None


def _unix_mode(info: zipfile.ZipInfo) -> int:
    return info.external_attr >> 16


def _common_folder(folders: list[PurePosixPath]) -> PurePosixPath:
    common = folders[0].parts
    for folder in folders[1:]:
        parts = folder.parts
        n = 0
        while n < min(len(common), len(parts)) and common[n] == parts[n]:
            n += 1
        common = common[:n]
    return PurePosixPath(*common) if common else PurePosixPath("")


def _shown(name: str) -> str:
    # A forged name may hold anything; findings show it printable.
    return name if name.isprintable() else repr(name)


def zip_layout(zf: zipfile.ZipFile, zip_name: str, limits: PackageLimits) -> ZipLayout:
    """The zip's drop files and what was refused; raises ZipRefused when it is too big to unpack."""
    infos = zf.infolist()
    if len(infos) > limits.max_files:
        raise ZipRefused([_error(zip_name, "package.too_many_files",
                                 f"{zip_name} has {len(infos)} entries, more than limits.max_files "
                                 f"({limits.max_files}); nothing was unpacked")])
    total = sum(i.file_size for i in infos)
    if total > limits.max_total_size:
        raise ZipRefused([_error(zip_name, "package.too_large",
                                 f"{zip_name} unpacks to {size_text(total)}, more than limits.max_total_size "
                                 f"({size_text(limits.max_total_size)}); nothing was unpacked")])
    refused: list[Finding] = []
    csvs: list[zipfile.ZipInfo] = []
    for info in infos:
        name = info.filename
        if name.startswith("__MACOSX/"):
            continue
        why = _unsafe_path(name)
        if why is not None:
            refused.append(_error(_shown(name), "package.unsafe_path",
                                  f"{_shown(name)} is not a plain path inside the zip ({why}), so it is not read"))
            continue
        if info.is_dir() or not name.lower().endswith(".csv"):
            continue
        mode = _unix_mode(info)
        if stat.S_ISLNK(mode):
            refused.append(_error(name, "package.symlink",
                                  f"{name} is a symbolic link in the zip: a drop holds only its own files, so "
                                  "it is not followed or read (zip the file itself)"))
            continue
        if stat.S_IFMT(mode) and not stat.S_ISREG(mode):
            refused.append(_error(name, "package.special_file",
                                  f"{name} is not a regular file in the zip, so it is not read"))
            continue
        if info.flag_bits & 0x1:
            refused.append(_error(name, "package.encrypted",
                                  f"{name} is password-protected: send the drop without a password (SFTP "
                                  "already encrypts it on the way), so it can be read"))
            continue
        if info.compress_type not in _SUPPORTED:
            refused.append(_error(name, "package.unreadable_member",
                                  f"{name} is packed with a method that cannot be unpacked here (zip method "
                                  f"{info.compress_type}); zip it again with the usual Deflate method"))
            continue
        if info.file_size > RATIO_FLOOR and info.file_size > limits.max_compression_ratio * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            refused.append(_error(name, "package.compression_ratio",
                                  f"{name} unpacks to {size_text(info.file_size)}, {ratio}:1 of its packed size; "
                                  f"more than limits.max_compression_ratio ({limits.max_compression_ratio}:1) "
                                  "is a zip bomb, not a roster file, so it is not unpacked"))
            continue
        csvs.append(info)

    folder = _common_folder([PurePosixPath(i.filename).parent for i in csvs]) if csvs else PurePosixPath("")
    where = f"in {folder}/" if folder.parts else "at the top of the zip"
    layout = ZipLayout(refused=refused)
    by_name: dict[str, list[zipfile.ZipInfo]] = {}
    for info in csvs:
        path = PurePosixPath(info.filename)
        if path.parent != folder:
            refused.append(_error(info.filename, "package.nested_file",
                                  f"{info.filename} is in another folder than the drop's other files ({where}); "
                                  "a drop's CSV files sit together in one folder, so it is not read"))
            continue
        by_name.setdefault(path.name.lower(), []).append(info)
    for lower, same in by_name.items():
        if len(same) > 1:
            names = " and ".join(sorted({i.filename for i in same})) if len({i.filename for i in same}) > 1 \
                else f"{same[0].filename} ({len(same)} times)"
            refused.append(_error(same[0].filename, "package.duplicate_name",
                                  f"the zip holds {names}: file names are case-insensitive, so none of them "
                                  "is read (keep one)"))
            continue
        layout.files[lower] = same[0]
    return layout


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytearray:
    """The member's bytes, never more than its declared size: a member whose data runs past what the
    central directory says (or stops short of it) is unreadable, and is not read further."""
    name = info.filename
    declared = info.file_size
    buf = bytearray(declared)
    view = memoryview(buf)
    got = 0
    try:
        with zf.open(info) as member:
            while chunk := member.read(min(_CHUNK, declared - got + 1)):
                if got + len(chunk) > declared:
                    raise MemberUnreadable(_error(name, "package.unreadable_member",
                                                  f"{name} holds more data than the zip declares "
                                                  f"({size_text(declared)}): the zip is damaged or forged, so "
                                                  "it is not read"))
                view[got:got + len(chunk)] = chunk
                got += len(chunk)
    except _DAMAGED as exc:
        raise MemberUnreadable(_damaged(name, exc)) from None
    if got != declared:
        raise MemberUnreadable(_error(name, "package.unreadable_member",
                                      f"{name} holds less data than the zip declares ({size_text(declared)}): "
                                      "the zip is damaged or incomplete, send it again"))
    return buf


def _damaged(name: str, exc: BaseException) -> Finding:
    why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return _error(name, "package.unreadable_member",
                  f"{name} cannot be unpacked ({why}): the zip is damaged or incomplete, send it again")
