"""Drops that are broken, or hostile, the ways districts' drops (and attackers') are: one builder each.

    from tests.malformed_drops import CASES, build

    path, expected = build("cr_only", tmp_path)   # the drop (a folder or a zip) and the finding it must give

Every builder starts from the tiny valid package of tests/oneroster_packages.py, breaks one thing,
and returns the path to validate (or to configure as a source). ``expected`` is the
(rule, file, line, column) of the finding that names the problem, or None for a drop that must
stay clean. ``SECRET`` is what a file outside the drop holds: it must never show up anywhere.
"""

from __future__ import annotations

import os
import socket
import stat
import zipfile
from pathlib import Path
from typing import Callable

from tests.oneroster_packages import csv_text, header_for, manifest_lines, valid_rows, write_package, zip_package

SECRET = "root:x:0:0:PASSPORT_OUTSIDE_SECRET:/root:/bin/bash"
Expected = tuple[str, str, int | None, str | None] | None


def users_bytes(rows=None, header=None) -> bytes:
    rows = valid_rows()["users"] if rows is None else rows
    return csv_text(header or header_for("1.1", "users", rows), rows).encode("utf-8")


def outside_file(tmp_path: Path, name: str = "outside.csv") -> Path:
    """A file outside the drop, shaped like a CSV so that a careless reader would take it."""
    path = tmp_path / "elsewhere" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{SECRET}\nsecond line of a file that is not the district's\n")
    return path


def _users_package(tmp_path: Path, data: bytes) -> Path:
    return write_package(tmp_path / "pkg", files=["users"], raw={"users.csv": data})


def invalid_utf8(tmp_path):
    lines = users_bytes().split(b"\r\n")
    lines[3] = lines[3].replace(b"Cleo", b"Cl\xe9o")
    return _users_package(tmp_path, b"\r\n".join(lines)), ("file.encoding", "users.csv", 4, None)


def utf16(tmp_path):
    return _users_package(tmp_path, users_bytes().decode().encode("utf-16")), ("file.encoding", "users.csv", 1, None)


def mixed_line_endings(tmp_path):
    return _users_package(tmp_path, users_bytes().replace(b"\r\n", b"\n", 2)), None


def cr_only(tmp_path):
    return _users_package(tmp_path, users_bytes().replace(b"\r\n", b"\r")), ("file.line_endings", "users.csv", 1, None)


def lone_cr_inside(tmp_path):
    lines = users_bytes().split(b"\r\n")
    data = b"\r\n".join(lines[:3]) + b"\r" + b"\r\n".join(lines[3:])  # line 3 ends with a lone CR
    return _users_package(tmp_path, data), ("file.line_endings", "users.csv", 3, None)


def unbalanced_quote(tmp_path):
    lines = users_bytes().split(b"\r\n")
    lines[2] = lines[2].replace(b"Ben", b'"Ben')  # stu-1, line 3
    return _users_package(tmp_path, b"\r\n".join(lines)), ("file.parse", "users.csv", 3, None)


def duplicate_header(tmp_path):
    rows = valid_rows()["users"]
    header = header_for("1.1", "users", rows) + ["email"]
    return _users_package(tmp_path, users_bytes(rows, header)), ("header.duplicate_column", "users.csv", 1, "email")


def metadata_case_duplicate(tmp_path):
    rows = [{**r, "metadata.Foo": "a", "metadata.foo": "b"} for r in valid_rows()["users"]]
    return _users_package(tmp_path, users_bytes(rows)), ("header.duplicate_column", "users.csv", 1, "metadata.foo")


def long_header(tmp_path):
    # 90 KB of metadata column names: more than the 64 KiB the header used to be read from.
    extra = {f"metadata.district_extension_column_{i:05d}": "x" for i in range(2500)}
    rows = [{**r, **extra} for r in valid_rows()["users"]]
    data = users_bytes(rows)
    assert data.index(b"\r\n") > 1 << 16
    return _users_package(tmp_path, data), None


def empty_file(tmp_path):
    return write_package(tmp_path / "pkg", files=["courses"], raw={"courses.csv": b""}), \
        ("file.empty", "courses.csv", 1, None)


def missing_file(tmp_path):
    return write_package(tmp_path / "pkg", rows={"demographics": None}, manifest={"file.demographics": "bulk"}), \
        ("manifest.file_missing", "manifest.csv", manifest_lines(tmp_path / "pkg")["file.demographics"], "value")


def nul_in_name(tmp_path):
    rows = valid_rows()["users"]
    rows[1]["givenName"] = "B\x00en"  # stu-1, line 3
    return _users_package(tmp_path, users_bytes(rows)), ("value.control_character", "users.csv", 3, "givenName")


def huge_field(tmp_path):
    # 48 MiB in one cell: over the default field-size limit (1 MiB), and more than the parser takes in one go.
    rows = valid_rows()["users"]
    rows[2]["familyName"] = "N" * (48 << 20)  # stu-2, line 4
    return _users_package(tmp_path, users_bytes(rows)), ("value.too_large", "users.csv", 4, "familyName")


def _zip_of(tmp_path: Path, members: dict[str, bytes], *, name: str = "drop.zip",
            infos: dict[str, Callable[[zipfile.ZipInfo], None]] | None = None) -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in members.items():
            info = zipfile.ZipInfo(member, date_time=(2025, 8, 1, 12, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            if infos and member in infos:
                infos[member](info)
            zf.writestr(info, data)
    return path


def package_members(tmp_path: Path, **package) -> dict[str, bytes]:
    folder = write_package(tmp_path / "pkg-src", **package)
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def password_zip(tmp_path):
    """A zip whose members are flagged encrypted, as a password-protected zip's are."""
    members = package_members(tmp_path, files=["orgs"])
    path = _zip_of(tmp_path, members)
    data = bytearray(path.read_bytes())
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        while at >= 0:
            data[at + flags_at] |= 0x1
            at = data.find(signature, at + 4)
    path.write_bytes(data)
    return path, ("package.encrypted", "manifest.csv", None, None)


def corrupted_zip(tmp_path):
    path = zip_package(write_package(tmp_path / "pkg", files=["orgs"]), tmp_path / "drop.zip")
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("orgs.csv")
    at = info.header_offset + 30 + len(info.filename) + 4  # inside orgs.csv's deflated data
    data[at:at + 16] = bytes(16)
    path.write_bytes(data)
    return path, ("package.unreadable_member", "orgs.csv", None, None)


def truncated_zip(tmp_path):
    path = zip_package(write_package(tmp_path / "pkg"), tmp_path / "drop.zip")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path, ("package.open", "drop.zip", None, None)


def zip_traversal(tmp_path):
    members = package_members(tmp_path, files=["users"])
    members["../../../users.csv"] = users_bytes([valid_rows()["users"][0]])
    return _zip_of(tmp_path, members), ("package.unsafe_path", "../../../users.csv", None, None)


def zip_nested(tmp_path):
    members = {f"export/{n}": d for n, d in package_members(tmp_path, files=["users"]).items()}
    members["export/old/users.csv"] = users_bytes()
    return _zip_of(tmp_path, members), ("package.nested_file", "export/old/users.csv", None, None)


def zip_case_duplicates(tmp_path):
    members = package_members(tmp_path, files=["users"])
    members["Users.csv"] = users_bytes([valid_rows()["users"][0]])
    return _zip_of(tmp_path, members), ("package.duplicate_name", "users.csv", None, None)


def zip_bomb(tmp_path):
    """users.csv unpacks to 64 MiB of one repeated row: about 1000:1."""
    members = package_members(tmp_path, files=["users"])
    path = tmp_path / "drop.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in members.items():
            if member != "users.csv":
                zf.writestr(member, data)
        with zf.open("users.csv", "w") as out:
            out.write(users_bytes())
            row = users_bytes().split(b"\r\n")[2] + b"\r\n"
            block = row * ((1 << 20) // len(row))
            for _ in range(64):
                out.write(block)
    return path, ("package.compression_ratio", "users.csv", None, None)


def zip_symlink(tmp_path):
    members = package_members(tmp_path, files=["users"])
    members["users.csv"] = str(outside_file(tmp_path)).encode()

    def link(info: zipfile.ZipInfo) -> None:
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return _zip_of(tmp_path, members, infos={"users.csv": link}), ("package.symlink", "users.csv", None, None)


def symlink_in_folder(tmp_path):
    pkg = write_package(tmp_path / "pkg", files=["users"])
    (pkg / "notes.csv").symlink_to(outside_file(tmp_path))
    return pkg, ("package.symlink", "notes.csv", None, None)


def symlinked_roster_file(tmp_path):
    pkg = write_package(tmp_path / "pkg", files=["users", "orgs"], omit=["orgs.csv"])
    (pkg / "orgs.csv").symlink_to(outside_file(tmp_path))
    return pkg, ("package.symlink", "orgs.csv", None, None)


def hard_link(tmp_path):
    pkg = write_package(tmp_path / "pkg", files=["users"])
    os.link(outside_file(tmp_path), pkg / "notes.csv")
    return pkg, ("package.hard_link", "notes.csv", None, None)


def fifo(tmp_path):
    pkg = write_package(tmp_path / "pkg", files=["users"])
    os.mkfifo(pkg / "orgs.csv")  # reading it would block forever
    return pkg, ("package.special_file", "orgs.csv", None, None)


def unix_socket(tmp_path):
    pkg = write_package(tmp_path / "pkg", files=["users"])
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(pkg / "notes.csv"))
    return pkg, ("package.special_file", "notes.csv", None, None)


CASES: dict[str, Callable[[Path], tuple[Path, Expected]]] = {f.__name__: f for f in (
    invalid_utf8, utf16, mixed_line_endings, cr_only, lone_cr_inside, unbalanced_quote, duplicate_header,
    metadata_case_duplicate, long_header, empty_file, missing_file, nul_in_name, huge_field, password_zip,
    corrupted_zip, truncated_zip, zip_traversal, zip_nested, zip_case_duplicates, zip_bomb, zip_symlink,
    symlink_in_folder, symlinked_roster_file, hard_link, fifo, unix_socket,
)}


def build(case: str, tmp_path: Path) -> tuple[Path, Expected]:
    return CASES[case](tmp_path)
