"""The person records of the last committed sync, kept for the next one.

Duplicate detection compares what a sync adds or changes with every person of the district. Reading
two million people back from the golden store and normalizing them again took ten seconds of a sync
that changed 1% of them; with this cache the people are ready in half a second
(``sync_people.py`` applies the sync's changes to them). Per partition, in
``$PASSPORT_HOME/artifacts/people/<district>/<year>/``:

- ``current/``: the cache of the last committed sync, the one a sync reads;
- ``pending/<token>/``: the cache each sync computed, one folder per sync, so that two syncs of the
  partition at once never write into each other's; promoted to ``current/`` when that sync is
  committed (``mark_committed``, by ``golden_records``). A sync that is held, previewed, rejected or
  fails leaves ``current/`` as it was, and its pending folder is removed by a later commit.

In each:

- ``people.arrow``: one row per person record current after the sync that wrote it (its golden id
  after the sync's merges) and one column of codes per compared attribute (``linkage.encoding``);
- ``values_<i>.arrow``: the distinct normalized values the codes of attribute i point into;
- ``stamp.json``: what the cache was computed from, and by which code; ``committed.json``: the
  version its sync was committed as.

Arrow IPC files, not Parquet: they are read whole and at once, and a memory-mapped IPC file is read
without decoding or copying (at a million students Parquet took 0.6 s more to write and read).

The cache is an image of the store, so it is used only when it provably still is one (``load``):
written by this code for these attributes, committed as the version the next sync starts from (or
followed only by versions that changed nothing), and no decision by a person (a resolution or an
undo, which relinks or deletes records) since its sync read the store. Anything else, and the sync
reads the store as if there were no cache; the findings are the same either way
(``tests/test_people_cache.py``).
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
from sqlalchemy import func, select

from passport_pipelines.artifacts.fingerprints import code_fingerprint, read_stamp, write_stamp
from passport_pipelines.artifacts.layout import people_dir
from passport_pipelines.artifacts.staged_folder import staged_folder
from passport_pipelines.reconciliation.linkage.attribute_kinds import kind_of
from passport_pipelines.reconciliation.linkage.encoding import BLANK, EncodedAttribute
from passport_pipelines.reconciliation.linkage.records import PreparedRecords
from passport_pipelines.store import schema
from passport_pipelines.store.golden_store import GoldenStore, Version
from passport_pipelines.store.version_status import COMMITTED

FORMAT = 1
PEOPLE_FILE = "people.arrow"
COMMITTED_FILE = "committed.json"
ID_COLUMNS = ("record_key", "golden_id")


@dataclass
class CachedPeople:
    """``ids`` (record_key, golden_id) row for row with ``prepared``'s positions."""

    ids: pa.Table
    prepared: PreparedRecords


def cache_dir(district: str, school_year: str) -> Path:
    """The cache a sync reads (of the last committed sync)."""
    return people_dir(district, school_year) / "current"


def _pending_dir(district: str, school_year: str, token: str) -> Path:
    return people_dir(district, school_year) / "pending" / token


def decisions_marker(store: GoldenStore, district: str, school_year: str) -> list[int]:
    """How many decisions people have made in the partition, and the latest one's id. The log is
    append-only, so any new decision changes this (the count too, when ids commit out of order)."""
    d = schema.duplicate_decisions
    with store.engine.connect() as conn:
        count, latest = conn.execute(select(func.count(), func.max(d.c.id)).where(
            d.c.district == district, d.c.school_year == school_year, d.c.version_id.is_(None))).one()
    return [int(count), int(latest or 0)]


def _made_by(attributes: list[str]) -> dict:
    """What decides whether a cache can serve a sync: its format, the code, the attributes compared."""
    return {"format": FORMAT, "code": code_fingerprint(), "attributes": list(attributes)}


def _code_column(k: int) -> str:
    return f"codes_{k}"


def write(district: str, school_year: str, *, ids: pa.Table, prepared: PreparedRecords, attributes: list[str],
          base_version_id: int | None, decisions: list[int]) -> str:
    """Write the cache of the sync computed against ``base_version_id`` with the person decisions
    ``decisions`` (``decisions_marker`` taken before the store was read), as the pending one; returns
    its token, with which ``mark_committed`` makes it current once the sync is committed."""
    token = uuid.uuid4().hex
    with staged_folder(_pending_dir(district, school_year, token)) as staging:
        columns = {c: ids.column(c).combine_chunks() for c in ID_COLUMNS}
        for k, name in enumerate(attributes):
            codes, values = _compacted(prepared.attributes[name])
            columns[_code_column(k)] = pa.array(codes.astype(np.int32))
            _write_arrow(staging / f"values_{k}.arrow", pa.table({"value": values}))
        _write_arrow(staging / PEOPLE_FILE, pa.table(columns))
        write_stamp(staging, {**_made_by(attributes), "token": token, "base_version_id": base_version_id,
                              "decisions": decisions, "rows": ids.num_rows})
    return token


def _compacted(attribute: EncodedAttribute) -> tuple[np.ndarray, pa.Array]:
    """Codes and distinct values without the values no record has any more (a changed e-mail leaves
    its old value behind), so the vocabulary does not grow from sync to sync."""
    used = np.zeros(len(attribute.uniques) + 1, dtype=bool)
    used[attribute.codes] = True  # BLANK (-1) marks the extra last slot
    used = used[:-1]
    if used.all():
        return attribute.codes, attribute.uniques
    renumber = np.append(np.cumsum(used) - 1, BLANK)
    return renumber[attribute.codes], attribute.uniques.filter(pa.array(used))


def _write_arrow(path: Path, table: pa.Table) -> None:
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table.combine_chunks())


def _read_arrow(path: Path) -> pa.Table:
    # Memory-mapped: the columns are views of the file, not copies.
    with pa.memory_map(str(path), "r") as source:
        return pa.ipc.open_file(source).read_all()


def mark_committed(changes: dict, version: Version) -> bool:
    """After a sync's commit: make its cache, if it is still the pending one, the current one, as an
    image of ``version``. ``changes``: the sync's ``RosterChanges`` as a dict. Returns whether it did."""
    token = ((changes or {}).get("duplicates") or {}).get("cache", {}).get("token")
    if not token:
        return False
    pending = _pending_dir(version.district, version.school_year, token)
    stamp = read_stamp(pending) or {}
    if stamp.get("token") != token or stamp.get("base_version_id") != version.base_version_id:
        return False
    _write_json(pending / COMMITTED_FILE, {"token": token, **_version_identity(version)})
    # Two renames, not one atomic step: a crash between them leaves no current cache, and the next
    # sync reads the store.
    current = cache_dir(version.district, version.school_year)
    retired = current.with_name(f".retired.{token[:8]}")
    if current.exists():
        current.rename(retired)
    pending.rename(current)
    shutil.rmtree(retired, ignore_errors=True)
    # The other pending caches were computed against the version this one replaced: no use now.
    for other in (p for p in pending.parent.iterdir() if p.is_dir()):
        shutil.rmtree(other, ignore_errors=True)
    return True


def _version_identity(version: Version) -> dict:
    """A version as the cache names it: its id, and what tells it apart from a version of another
    store that happens to have the same id (a store recreated under the same PASSPORT_HOME)."""
    return {"version_id": version.id, "number": version.number, "run_id": version.run_id,
            "committed_at": version.committed_at.isoformat() if version.committed_at else None}


def load(store: GoldenStore, district: str, school_year: str, *, attributes: list[str],
         base_version_id: int | None, decisions: list[int]) -> tuple[CachedPeople | None, str]:
    """The cache, when it is an image of the store at ``base_version_id`` (the version this sync
    compares with) under the person decisions ``decisions``; else None. And why (for the run's
    metadata): ``used``, or what made it unusable."""
    folder = cache_dir(district, school_year)
    stamp = read_stamp(folder)
    if stamp is None:
        return None, "no cache"
    made_by = _made_by(attributes)
    if any(stamp.get(k) != v for k, v in made_by.items()):
        return None, "written by other code or for other attributes"
    committed = _read_json(folder / COMMITTED_FILE)
    if not committed or committed.get("token") != stamp.get("token"):
        return None, "the sync that wrote it was not committed"
    why_not = _versions_since(store, district, school_year, committed, base_version_id)
    if why_not:
        return None, why_not
    if stamp.get("decisions") != decisions:
        return None, "a person decided on duplicates since"
    try:
        return _read(folder, attributes, rows=stamp.get("rows")), "used"
    except (OSError, ValueError, KeyError, pa.ArrowException) as exc:  # damaged or incomplete files
        return None, f"unreadable ({type(exc).__name__})"


def _read(folder: Path, attributes: list[str], *, rows: int) -> CachedPeople:
    people = _read_arrow(folder / PEOPLE_FILE)
    if people.num_rows != rows:
        raise ValueError(f"{people.num_rows} rows, the stamp says {rows}")
    attrs = {}
    for k, name in enumerate(attributes):
        values = _read_arrow(folder / f"values_{k}.arrow").column("value").combine_chunks()
        codes = people.column(_code_column(k)).combine_chunks().to_numpy().astype(np.int64)
        if len(codes) and codes.max() >= len(values):
            raise ValueError(f"codes of {name} beyond its values")
        attrs[name] = EncodedAttribute(kind_of(name), codes, values)
    keys = people.column("record_key").combine_chunks()
    prepared = PreparedRecords(keys=keys, attributes=attrs, key_ordered=False)
    return CachedPeople(pa.table({c: people.column(c) for c in ID_COLUMNS}), prepared)


def _versions_since(store: GoldenStore, district: str, school_year: str, committed: dict,
                    base_version_id: int | None) -> str | None:
    """Why the store at ``base_version_id`` may differ from the cache committed as ``committed``:
    the version is not that one, or a version since then changed records. None when it is an image."""
    versions = {v.id: v for v in store.versions(district, school_year)}
    cached, base = versions.get(committed.get("version_id")), versions.get(base_version_id)
    if cached is None or base is None or cached.status not in COMMITTED or base.number < cached.number:
        return "written for another version"
    identity = _version_identity(cached)
    if any(committed.get(k) != v for k, v in identity.items()):
        return "written for another version"
    # Syncs of unchanged data commit versions that change nothing: the cache still holds.
    for v in versions.values():
        if cached.number < v.number <= base.number and v.status in COMMITTED \
                and any(n for counts in (v.changes or {}).values() for n in counts.values()):
            return f"version {v.number} changed records since"
    return None


def _write_json(path: Path, content: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(content), encoding="utf-8")
    tmp.replace(path)


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
