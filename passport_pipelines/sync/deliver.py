"""Stage 5, deliveries: the committed golden data exported to each destination."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa

from passport_pipelines import settings
from passport_pipelines.config.integration import Integration
from passport_pipelines.delivery.delivered_ids import REFERENCED, delivered_view
from passport_pipelines.delivery.oneroster_export import write_oneroster_11_zip
from passport_pipelines.model import entities
from passport_pipelines.model.frames import to_frame
from passport_pipelines.reconciliation.golden_people import PERSON_ENTITIES, golden_people_view, lineage_rows
from passport_pipelines.reconciliation.review_effects import ReviewEffects, review_effects
from passport_pipelines.store.duplicate_review import DuplicateReview
from passport_pipelines.store.golden_store import GoldenStore, Version
from passport_pipelines.store.version_status import COMMITTED
from passport_pipelines.sync.hold_gate import check_deliverable
from passport_pipelines.transforms.engine import connect

# OneRoster 1.1 carries a user's role and orgs on users.csv, so the roles table is not exported;
# nor are the columns that only say where a record came from.
EXPORTED = [e for e in entities.ENTITIES if e != "roles"]
UNEXPORTED_COLUMNS = ("content_hash", "district", "school_year", "source", "date_last_modified")


def export_path(integration: Integration, folder: Path | None, version: Version) -> Path:
    base = integration.resolve_path(folder) if folder else settings.default_exports_dir(integration.district)
    return base / f"{integration.district}_{version.school_year}_v{version.number}_oneroster-1.1.zip"


def deliver_version(integration: Integration, version: Version, store: GoldenStore) -> list[dict]:
    """Write every destination of the integration; returns what was delivered where.
    Any failure marks the version 'propagation failed' (and is raised): it is never silent.
    Nothing is delivered while a sync of the district's year is held (``SyncHeld``)."""
    check_deliverable(store, version)
    try:
        results = _deliver(integration, version, store)
    except Exception:
        store.set_status(version.id, "propagation failed")
        raise
    store.set_status(version.id, "successfully in production")
    return results


def _previous_delivery(store: GoldenStore, version: Version, destination: str) -> dict | None:
    """What the version just before this one delivered to the destination, if it is still there."""
    earlier = [v for v in store.versions(version.district, version.school_year)
               if v.number < version.number and v.status in COMMITTED]
    if not earlier:
        return None
    for d in store.deliveries(earlier[-1].id):
        if d["destination"] == destination and d["status"] in ("delivered", "unchanged") and d["path"] \
                and Path(d["path"]).exists():
            return d
    return None


def _people_only(con, entity: str, effects: ReviewEffects) -> str:
    """``current`` less the records a reviewer marked redundant ("ignore"): no person of their own,
    and no values given to the person they belong to."""
    if entity != "users" or not effects.ignored.num_rows:
        return "current"
    con.execute("CREATE OR REPLACE TEMP VIEW current_people AS SELECT * FROM current AS c WHERE NOT EXISTS "
                "(SELECT 1 FROM ignored__users AS i WHERE i.source = c.source AND i.sourced_id = c.sourced_id)")
    return "current_people"


def _one_row_per_person(con, entity: str, view: str, effects: ReviewEffects, integration: Integration):
    """Records merged into one golden id become one row, field by field (master fields); for users,
    also the lineage of every merged person."""
    sources = [s.name for s in integration.sources]
    takes = effects.takes[entity]
    con.register(f"takes__{entity}", takes)
    taken = f"takes__{entity}" if takes.num_rows else None
    lineage = lineage_rows(con, _people_only(con, entity, effects), master_fields=integration.master_fields,
                           sources=sources, takes=taken) if entity == "users" else None
    view = golden_people_view(con, entity, view, master_fields=integration.master_fields, sources=sources,
                              takes=taken)
    return view, lineage


def _decided_after(decided: datetime | None, delivered: datetime) -> bool:
    def utc(t: datetime) -> datetime:  # SQLite gives naive UTC, PostgreSQL aware times
        return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t
    return decided is not None and utc(decided) > utc(delivered)


def _deliver(integration: Integration, version: Version, store: GoldenStore) -> list[dict]:
    results = []
    destinations = integration.destinations
    if not destinations:
        return results
    if not any(sum(c.values()) for c in version.changes.values()):
        # Nothing changed: the export already delivered is still current, so no new file
        # appears for downstream systems to pick up again.
        pending = []
        # A duplicate decision since the last delivery changes who is delivered, though no record did.
        decided = DuplicateReview(store).last_decided_at(version.district, version.school_year)
        for dest in destinations:
            previous = _previous_delivery(store, version, dest.name)
            if previous is None or _decided_after(decided, previous["delivered_at"]):
                pending.append(dest)
                continue
            store.record_delivery(version.id, dest.name, dest.type, previous["path"], previous["rows"], "unchanged")
            results.append({"destination": dest.name, "format": dest.type, "path": previous["path"],
                            "rows": previous["rows"], "unchanged": True})
        destinations = pending
        if not destinations:
            return results
    con = connect()
    try:
        keys = {}
        for entity in REFERENCED:
            con.register(f"keys__{entity}", store.current_keys(version.district, version.school_year, entity,
                                                               merged=entity == "users"))
            keys[entity] = f"keys__{entity}"
        effects = review_effects(store, version.district, version.school_year)
        con.register("ignored__users", effects.ignored)
        frames, lineage = {}, None
        for entity in EXPORTED:
            # One entity's full rows at a time; DuckDB scans the Arrow table in place. Columns the
            # export never writes are left behind, so a district's frames stay within budget.
            con.register("current", store.current_records(version.district, version.school_year, entity))
            view = delivered_view(con, entity, _people_only(con, entity, effects), keys)
            if entity in PERSON_ENTITIES:
                view, found = _one_row_per_person(con, entity, view, effects, integration)
                lineage = found if found is not None else lineage
            frames[entity] = to_frame(con.execute(f"SELECT * EXCLUDE ({', '.join(UNEXPORTED_COLUMNS)}) FROM {view}")
                                      .to_arrow_table())
            con.unregister("current")
            pa.default_memory_pool().release_unused()
    finally:
        con.close()
    if lineage is not None:
        DuplicateReview(store).replace_lineage(version.district, version.school_year, version.id, lineage)
    for dest in destinations:
        path = export_path(integration, dest.folder, version)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            rows = write_oneroster_11_zip(frames, path)
        except Exception as exc:
            store.record_delivery(version.id, dest.name, dest.type, str(path), {}, "failed", error=type(exc).__name__)
            raise
        store.record_delivery(version.id, dest.name, dest.type, str(path), rows, "delivered")
        results.append({"destination": dest.name, "format": dest.type, "path": str(path), "rows": rows})
    return results
