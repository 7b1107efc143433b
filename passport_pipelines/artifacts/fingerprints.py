"""Content fingerprints, so a sync of unchanged data can reuse what the last sync computed.

A stage output is reused only when everything it was computed from is byte-identical: the
drop's files, the integration settings that shape it, the SQL models and this code. Anything
else changes the fingerprint and the stage runs in full.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from passport_pipelines import settings

_CHUNK = 1 << 20


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def combine(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


@cache
def code_fingerprint() -> str:
    """This package's code: a new release never reuses what an older one computed."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".sql") and "__pycache__" not in path.parts:
            h.update(path.relative_to(root).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def transforms_fingerprint() -> str:
    """The SQL models in use (a district may point PASSPORT_TRANSFORMS_DIR elsewhere)."""
    folder = settings.transforms_dir()
    return combine(*[(p.relative_to(folder).as_posix(), file_digest(p)) for p in sorted(folder.rglob("*.sql"))])


def read_stamp(folder: Path) -> dict | None:
    path = folder / "stamp.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None


def write_stamp(folder: Path, stamp: dict) -> None:
    tmp = folder / ".stamp.json.tmp"
    tmp.write_text(json.dumps(stamp), encoding="utf-8")
    tmp.replace(folder / "stamp.json")
