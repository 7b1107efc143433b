"""Stage 3, roster changes: the change set of this sync against the last committed version."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.compute as pc

from passport_pipelines.artifacts.layout import stage_dir
from passport_pipelines.artifacts.table_sets import load_table_set, write_table_set
from passport_pipelines.changes.identity import identity_changes
from passport_pipelines.changes.rekeyed_source import RekeyedSource
from passport_pipelines.config.reconciliation import Reconciliation
from passport_pipelines.config.source_identity import SourceIdentity
from passport_pipelines.model import entities
from passport_pipelines.model.change_set import (
    ChangeSet,
    EntityChanges,
    add_changed_fields,
    cascade_deletes,
    compute_entity_changes,
)
from passport_pipelines.normalize.rosters import NormalizedSource
from passport_pipelines.reconciliation import people_cache
from passport_pipelines.reconciliation.district_schools import district_school_golden_ids
from passport_pipelines.reconciliation.record_duplicates import search_record_duplicates, searched_entities
from passport_pipelines.reconciliation.sync_duplicates import attributes_needed, find_sync_duplicates, relinked
from passport_pipelines.reconciliation.sync_people import sync_people
from passport_pipelines.sql.engine import connect
from passport_pipelines.sql.quoting import lit_list
from passport_pipelines.store.duplicate_review import DuplicateReview, write_findings_files
from passport_pipelines.store.golden_store import GoldenStore
from passport_pipelines.store.rekeyed_decisions import rekeyed_maps, rekeyed_pairs


@dataclass
class RosterChanges:
    folder: str
    base_version_id: int | None
    counts: dict[str, dict[str, int]]
    sources: list[str]
    # The very data that made the latest version, again: applying it twice changes nothing.
    unchanged: bool = False
    # Duplicate people this sync found (``reconciliation/``): counts per domain, and the folder of
    # links, merges and review cases the commit writes.
    duplicates: dict | None = None
    duplicates_folder: str | None = None
    # False: imported without deletions; nothing was deleted, whatever the drop left out.
    deletions: bool = True
    # Sources whose identity settings changed since the last version (``changes/identity.py``):
    # source, previous, current, settings and the reason the sync is held for.
    identity_changes: list[dict] = field(default_factory=list)
    # Per entity, records those sources' re-key deletes under an old key and adds under a new one.
    rekeyed: dict[str, int] = field(default_factory=dict)


def compute_changes(normalized: list[NormalizedSource], *, district: str, school_year: str, run_id: str,
                    store: GoldenStore, reconciliation: Reconciliation | None = None,
                    source_order: list[str] | None = None, deletions: bool = True,
                    district_schools: dict[str, list[str]] | None = None,
                    identities: dict[str, SourceIdentity] | None = None,
                    district_school_list: list | None = None) -> RosterChanges:
    """The change set of every source; then, with ``reconciliation``, the duplicate people among
    the records it adds or changes (``source_order`` ranks sources for the golden id a merge keeps).
    ``deletions=False``: import without deletions (neither missing nor marked-deleted records go).
    ``district_schools``: source -> the district school ids its schools mapping gives its schools;
    each is one golden school, whatever the number of sources mapped to it. ``identities``: each
    configured source's identity settings; a source whose settings differ from those the last version
    recorded is re-keyed (``changes/rekeyed_source.py``; ``district_school_list``: the district's schools)."""
    base = store.latest_version(district, school_year)
    root = stage_dir("roster_changes", district, school_year, run_id)
    totals: dict[str, dict[str, int]] = {e: {"added": 0, "updated": 0, "deleted": 0} for e in entities.ENTITIES}
    moved = identity_changes(base.sources if base else None, identities or {})
    if base and not moved and _same_input_as(base.sources, normalized):
        return RosterChanges(str(root), base.id, totals, [s.source for s in normalized], unchanged=True,
                             deletions=deletions)
    rekeying = {c.current.name: c for c in moved if c.rekeys}
    moved_records: dict[str, int] = {}
    school_ids = district_school_golden_ids(store, district=district, school_year=school_year,
                                            mapped=district_schools or {},
                                            source_order=source_order or [s.source for s in normalized],
                                            aliases={c.previous.name: c.current.name for c in moved})
    folders = []
    for source in normalized:
        con = connect()
        try:
            incoming = load_table_set(con, Path(source.folder), prefix="incoming__")
            rekeyed = (RekeyedSource(con, rekeying[source.source], store, district=district, school_year=school_year,
                                     district_schools=district_school_list or [])
                       if source.source in rekeying else None)
            stored: dict[str, str] = {}
            unread: set[str] = set()
            for entity in entities.ENTITIES:
                mode = source.entity_modes.get(entity, "absent")
                # A file the drop does not have changes nothing of its own, and a file that is not a complete
                # set (a delta) changes only the records it names: the rest of their keys on record are read
                # only if a deletion cascades into them (a delta of users reads no enrollments, and only the
                # users it holds).
                absent = mode == "absent" and rekeyed is None
                named = (None if absent or rekeyed is not None or _complete(source, mode, deletions)
                         else con.execute(f"SELECT DISTINCT source, sourced_id FROM {incoming[entity]}").to_arrow_table())
                # Registered, not copied: DuckDB scans the Arrow table in place.
                con.register(f"stored__{entity}", store.stored_keys(district, school_year, entity, [source.source],
                                                                    empty=absent, only=named))
                if absent or named is not None:
                    unread.add(entity)
                stored[entity] = rekeyed.stored(entity, f"stored__{entity}") if rekeyed else f"stored__{entity}"
            shared = None
            if source.source in (district_schools or {}):
                con.register("district_schools", school_ids.filter(pc.equal(school_ids.column("source"),
                                                                            source.source)))
                shared = "district_schools"
            for entity in entities.ENTITIES:
                mode = source.entity_modes.get(entity, "absent")
                complete = _complete(source, mode, deletions)
                compute_entity_changes(
                    con, entity, rekeyed.incoming(entity, incoming[entity], complete=complete) if rekeyed
                    else incoming[entity], stored[entity], district=district, deletes_missing=complete,
                    district_schools=shared if entity == "orgs" else None,
                )
                if rekeyed:
                    rekeyed.after_changes(entity)
                if not deletions:
                    con.execute(f"DELETE FROM deletes__{entity}")  # records marked tobedeleted stay too

            def read_keys(entity: str) -> None:
                if entity in unread:
                    con.register(f"stored__{entity}", store.stored_keys(district, school_year, entity,
                                                                        [source.source]))
                    unread.discard(entity)

            cascade_deletes(con, stored, before=read_keys)
            rekey_maps = rekeyed.after_cascades() if rekeyed else {}
            for entity, n in (rekeyed.moved if rekeyed else {}).items():
                moved_records[entity] = moved_records.get(entity, 0) + n
            for entity in entities.ENTITIES:
                updated = con.execute(
                    f"SELECT source, sourced_id FROM upserts__{entity} WHERE change = 'updated'").to_arrow_table()
                if updated.num_rows:
                    con.register("previous", store.stored_rows(district, school_year, entity, updated))
                    add_changed_fields(con, entity, "previous")
                    con.unregister("previous")
            relations = {}
            for entity in entities.ENTITIES:
                relations[f"upserts__{entity}"] = f"upserts__{entity}"
                relations[f"deletes__{entity}"] = f"deletes__{entity}"
            relations.update(rekey_maps)
            folder = root / source.source
            write_table_set(con, folder, relations)
            folders.append(str(folder))
            for entity in entities.ENTITIES:
                row = con.execute(
                    f"SELECT count(*) FILTER (WHERE change IN ('added', 'restored')), "
                    f"count(*) FILTER (WHERE change = 'updated') FROM upserts__{entity}").fetchone()
                totals[entity]["added"] += row[0]
                totals[entity]["updated"] += row[1]
                totals[entity]["deleted"] += con.execute(f"SELECT count(*) FROM deletes__{entity}").fetchone()[0]
        finally:
            con.close()
    changes = RosterChanges(str(root), base.id if base else None, totals, [s.source for s in normalized],
                            deletions=deletions,
                            identity_changes=[{**c.as_dict(), "reason": c.reason()} for c in moved],
                            rekeyed={e: n for e, n in moved_records.items() if n})
    if reconciliation is not None and reconciliation.domains_for("users"):
        _find_duplicates(changes, [Path(f) for f in folders], reconciliation,
                         source_order or [s.source for s in normalized], district, school_year, store)
    if reconciliation is not None and searched_entities(reconciliation):  # orgs, sessions, courses, classes
        changes.duplicates_folder, found = search_record_duplicates(
            Path(changes.folder), [Path(f) for f in folders], reconciliation,
            source_order or [s.source for s in normalized], district, school_year, store)
        changes.duplicates = {**(changes.duplicates or {}), **found}
    return changes


def _complete(source: NormalizedSource, mode: str, deletions: bool) -> bool:
    """Whether the source's rows of an entity are the whole set: a record on record they lack is deleted."""
    return mode == "bulk" and source.upload_mode == "full" and deletions


def _find_duplicates(changes: RosterChanges, folders: list[Path], reconciliation: Reconciliation,
                     source_order: list[str], district: str, school_year: str, store: GoldenStore) -> None:
    """The duplicate people among what the sync adds or changes, written beside the change set; then
    the people as they will be once it is committed, cached for the next sync (``people_cache.py``)."""
    started = time.perf_counter()
    attributes = attributes_needed(reconciliation)
    con = connect()
    try:
        people = sync_people(con, store, district=district, school_year=school_year, change_folders=folders,
                             attributes=attributes, base_version_id=changes.base_version_id)
        known = rekeyed_pairs(DuplicateReview(store).known_pairs(district, school_year),
                              rekeyed_maps(folders).get("users"))
        findings = find_sync_duplicates(con, people, reconciliation, known, source_order)
    finally:
        con.close()
    folder = Path(changes.folder) / "__duplicates"  # beside the per-source folders, never named like one
    write_findings_files(folder, findings)
    cache_started = time.perf_counter()
    token = people_cache.write(district, school_year, ids=relinked(people.ids, findings.links),
                               prepared=people.prepared, attributes=attributes,
                               base_version_id=changes.base_version_id, decisions=people.decisions)
    changes.duplicates_folder = str(folder)
    changes.duplicates = {"people": len(people), "compared": findings.compared, "merged": findings.merges.num_rows,
                          "relinked": findings.links.num_rows, "new_cases": findings.cases.num_rows,
                          "by_domain": findings.counts,
                          "seconds": {**people.seconds, **findings.seconds,
                                      "cache_write": round(time.perf_counter() - cache_started, 3)},
                          "cache": {"read": people.cache, "token": token},
                          "total_seconds": round(time.perf_counter() - started, 2)}


def _same_input_as(version_sources: dict, normalized: list[NormalizedSource]) -> bool:
    """Whether every source's normalized rows are byte-identical to those the version was built from,
    with its deletions applied (a version imported without deletions may have left some out)."""
    if set(version_sources) != {s.source for s in normalized}:
        return False
    if any(entry.get("deletions") is False for entry in version_sources.values()):
        return False
    return all(s.fingerprint and version_sources[s.source].get("fingerprint") == s.fingerprint for s in normalized)


def load_change_set(changes: RosterChanges) -> ChangeSet:
    """The change set, each entity read from Parquet only when the commit asks for it."""
    if changes.unchanged:
        return ChangeSet()

    def loader(entity: str):
        def load() -> EntityChanges:
            con = connect()
            try:
                parts = {}
                for kind in ("upserts", "deletes"):
                    files = [Path(changes.folder) / source / f"{kind}__{entity}.parquet" for source in changes.sources]
                    listing = lit_list(str(f) for f in files)
                    # In key order: the store's primary key index then grows at its end instead of
                    # everywhere at once (4-5x faster inserts into SQLite at a million records). One
                    # source's upserts were written in key order already (``compute_entity_changes``;
                    # naming an update's changed fields may move a few, which costs only speed).
                    ordered = kind == "upserts" and len(files) == 1
                    parts[kind] = con.execute(f"SELECT * FROM read_parquet([{listing}])"
                                              + ("" if ordered else " ORDER BY source, sourced_id")).to_arrow_table()
                return EntityChanges(upserts=parts["upserts"], deletes=parts["deletes"])
            finally:
                con.close()
        return load

    busy = [e for e in entities.ENTITIES if any(changes.counts[e].values())]
    return ChangeSet({e: loader(e) for e in busy}, known_counts=changes.counts)
