"""The seal of a change set: the run that computed it, the drops it was computed from, its files.

A change set is written by one run into that run's folder and committed later, maybe by another
run (an approval, a re-execution). Before the commit writes anything it checks the seal against what
it was asked to commit: the same computing run, the same archived drops (those the version will
point to for download) and every file as it was written (size and modification time). Anything else
is refused, so a version can never hold one drop's archive and another drop's changes.
"""

from __future__ import annotations

import json
from pathlib import Path

SEAL = "seal.json"


class ChangeSetMismatch(RuntimeError):
    """The change set on disk is not the one this sync computed: nothing is committed."""


def _files(root: Path) -> dict[str, list[int]]:
    out = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name != SEAL):
        st = path.stat()
        out[path.relative_to(root).as_posix()] = [st.st_size, st.st_mtime_ns]
    return out


def seal(root: Path, *, run_id: str, archives: dict[str, str]) -> None:
    """Write the seal of the change set in ``root`` (``archives``: source -> archived drop)."""
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".{SEAL}.tmp"
    tmp.write_text(json.dumps({"run_id": run_id, "archives": archives, "files": _files(root)}), encoding="utf-8")
    tmp.replace(root / SEAL)


def verify(root: Path, *, run_id: str, archives: dict[str, str]) -> None:
    """Raise ``ChangeSetMismatch`` unless ``root`` holds the change set ``run_id`` computed from ``archives``."""
    try:
        sealed = json.loads((root / SEAL).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ChangeSetMismatch(f"the change set in {root} has no readable seal: it was not written by a "
                                "finished roster_changes step; sync again") from None
    if sealed.get("run_id") != run_id:
        raise ChangeSetMismatch(f"the change set in {root} was computed by run {sealed.get('run_id')}, "
                                f"not by run {run_id} whose drop this version archives; sync again")
    if sealed.get("archives") != archives:
        raise ChangeSetMismatch(f"the change set in {root} was computed from other drops than the ones this "
                                "version archives; sync again")
    now = _files(root)
    if now != sealed.get("files"):
        changed = sorted(set(now) ^ set(sealed.get("files", {}))
                         | {k for k in now if k in sealed.get("files", {}) and now[k] != sealed["files"][k]})
        raise ChangeSetMismatch(f"the change set in {root} changed after it was computed ({', '.join(changed[:5])}); "
                                "sync again")
