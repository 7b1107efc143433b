"""Fingerprints of what a delivered file is made of, so that a file whose inputs did not change since the
destination's last delivery is copied from it instead of being built again.

A golden frame (one entity of a version, as delivered) is a function of: the entity's records in the
version's snapshot (an entity a commit did not change keeps the previous file, the same inode), which of
them are current and their golden ids (the store's keys), the golden ids of what its rows point at, the
reviewers' decisions on it (records left out, fields taken), the district's master fields and source
order, and the code that builds and writes it (the source of the modules below, so that an upgrade that
changes a delivered file never copies the old one). A file of one destination is a function of the frames
it reads, the destination's privacy shield and OneRoster version. Each fingerprint is a SHA-256 of those
inputs; a frame that cannot be fingerprinted (no snapshot) has none, and its files are built.

Conservative on purpose: a shield that keeps only some schools reads every frame, so every file of such
a destination depends on every frame; any duplicate decision since the last delivery changes them all.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from functools import cache
from pathlib import Path

import duckdb
import pyarrow as pa

from passport_pipelines.config.destinations import OneRosterCsvDestination
from passport_pipelines.config.integration import Integration
from passport_pipelines.model import entities
from passport_pipelines.reconciliation.review_effects import ReviewEffects
from passport_pipelines.sql.quoting import ident

PACKAGE = Path(__file__).resolve().parents[1]
# What a delivered file's bytes depend on besides its inputs: how frames are built and files written.
CODE = ("delivery", "model", "reconciliation/golden_people.py", "reconciliation/review_effects.py",
        "validation/oneroster/spec.py", "sql")


@cache
def code_digest() -> str:
    """SHA-256 of the source of the modules that build and write delivered files."""
    digest = hashlib.sha256()
    for part in CODE:
        path = PACKAGE / part
        sources = [p for p in path.rglob("*") if p.suffix in (".py", ".sql")] if path.is_dir() else [path]
        for source in sorted(sources):
            digest.update(str(source.relative_to(PACKAGE)).encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


def table_digest(con: duckdb.DuckDBPyConnection, table: pa.Table | None) -> str:
    """Rows and an order-free hash of every row of ``table`` (``-`` for none): equal for equal row sets."""
    if table is None or not table.num_rows:
        return "-"
    con.register("_digest", table)
    try:
        columns = ", ".join(ident(c) for c in table.column_names)
        # A sum of row hashes (a HUGEINT: no overflow) is the same in any order, and a repeated row counts.
        count, total = con.execute(f"SELECT count(*), sum(hash({columns})) FROM _digest").fetchone()
    finally:
        con.unregister("_digest")
    return f"{count}:{total}"


def _file_identity(path: Path) -> str | None:
    """Which file this is: an entity's snapshot file is a hard link of the previous one while no commit
    changes the entity, so the same inode, size and time."""
    try:
        st = path.stat()
    except OSError:
        return None
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"


def _sha(parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def frame_fingerprints(con: duckdb.DuckDBPyConnection, integration: Integration, snapshot: Path | None,
                       current_keys: dict[str, pa.Table], referenced_keys: dict[str, pa.Table],
                       effects: ReviewEffects, decided_at: datetime | None) -> dict[str, str]:
    """entity -> fingerprint of its golden frame; empty without a snapshot to name the records by.
    ``current_keys``: the current keys of the entities reviewers decide on; ``referenced_keys``: the keys
    references are turned into golden ids with (``golden_frames.register_keys``)."""
    if snapshot is None:
        return {}
    shared = {"code": code_digest(), "decided_at": decided_at,
              "master_fields": integration.master_fields,
              "sources": [s.name for s in integration.sources]}
    referenced = {e: table_digest(con, t) for e, t in referenced_keys.items()}
    out = {}
    for entity in entities.ENTITIES:
        identity = _file_identity(snapshot / f"{entity}.parquet")
        if identity is None:
            continue
        out[entity] = _sha({
            **shared, "entity": entity, "records": identity,
            "current": table_digest(con, current_keys.get(entity)),
            "references": {r.entity: referenced.get(r.entity) for r in entities.REFERENCES.get(entity, ())},
            "ignored": table_digest(con, effects.ignored.get(entity)),
            "takes": table_digest(con, effects.takes.get(entity)),
        })
    return out


def people_inputs(con: duckdb.DuckDBPyConnection, integration: Integration, snapshot: Path | None,
                  referenced_keys: dict[str, pa.Table], effects: ReviewEffects,
                  decided_at: datetime | None) -> str | None:
    """The fingerprint of what the users' frame is made of besides the user and agent records and their
    keys: the schools' golden ids, the reviewers' decisions on users, master fields and code. While it
    holds, a users file changes only where user and agent records did (``changed_people.py``)."""
    if snapshot is None:
        return None
    return _sha({"code": code_digest(), "decided_at": decided_at, "master_fields": integration.master_fields,
                 "sources": [s.name for s in integration.sources],
                 "references": {r.entity: table_digest(con, referenced_keys.get(r.entity))
                                for r in entities.REFERENCES["users"]},
                 "ignored": table_digest(con, effects.ignored.get("users")),
                 "takes": table_digest(con, effects.takes.get("users"))})


def splice_basis(people: str, dest: OneRosterCsvDestination, filename: str) -> str:
    """The fingerprint of what a destination's users file is made of besides the user and agent records:
    ``people`` (``people_inputs``), the OneRoster version and the shield. Rows may be spliced into the
    last package's file while it is the same (``changed_people.py``)."""
    return _sha({"file": filename, "inputs": people, "version": dest.version,
                 "shield": dest.shield.model_dump(mode="json")})


def file_fingerprints(frames: dict[str, str], dest: OneRosterCsvDestination,
                      files: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """File name -> fingerprint, for the files (name -> the entities its rows are built from) whose
    frames all have one. A shield by school reads every frame for every file."""
    shield = dest.shield.model_dump(mode="json")
    out = {}
    for name, reads in files.items():
        needed = tuple(sorted(frames)) if dest.shield.schools is not None else reads
        if dest.shield.schools is not None and set(frames) != set(entities.ENTITIES):
            continue
        if not all(e in frames for e in needed):
            continue
        out[name] = _sha({"file": name, "version": dest.version, "shield": shield,
                          "frames": {e: frames[e] for e in needed}})
    return out
