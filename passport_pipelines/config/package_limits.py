"""How big a drop may be before it is refused, unread.

A drop is read into memory file by file, so without a bound a small zip that unpacks to
gigabytes (a zip bomb) or a file with one enormous cell takes the host down before any finding
is written. Every limit is checked before memory grows: a zip's declared sizes before anything is
unpacked (and counted again while unpacking, so a zip that lies about its sizes is caught too),
a folder's file sizes before anything is copied.

The defaults leave room for the largest districts: a one-million-student OneRoster drop is
about 1 GB of CSV in some ten files, with its widest cell (a long list of ids) a few KB.
An integration file can raise or lower them per source (``limits:``, config/drop_limits.py).
"""

from __future__ import annotations

from dataclasses import dataclass

KIB = 1 << 10
MIB = 1 << 20
GIB = 1 << 30


@dataclass(frozen=True)
class PackageLimits:
    max_total_size: int = 4 * GIB  # bytes of CSV in the drop, unpacked (SFTP: bytes downloaded)
    max_files: int = 1000  # entries of a zip, CSV files of a folder
    max_compression_ratio: int = 200  # unpacked / packed size of one zip member (CSV packs ~5-20:1)
    max_field_size: int = 1 * MIB  # bytes of one cell
    max_header_size: int = 1 * MIB  # bytes of a file's header row


DEFAULT_LIMITS = PackageLimits()
# Below this unpacked size a member's compression ratio is not checked: a small file of blank cells
# packs far better than 200:1 and is harmless.
RATIO_FLOOR = 1 * MIB


def size_text(size: int) -> str:
    """A byte count as people write it: 4 GiB, 1.95 KiB, 812 bytes."""
    for unit, scale in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if size >= scale:
            return f"{size / scale:.2f}".rstrip("0").rstrip(".") + f" {unit}"
    return f"{size} bytes"
