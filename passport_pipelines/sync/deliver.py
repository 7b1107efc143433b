"""Stage 5, deliveries: the committed golden data exported to each destination."""

from __future__ import annotations

from pathlib import Path

from passport_pipelines import settings
from passport_pipelines.config.integration import Integration
from passport_pipelines.delivery.delivered_ids import with_delivered_ids
from passport_pipelines.delivery.oneroster_export import write_oneroster_11_zip
from passport_pipelines.model import entities
from passport_pipelines.model.frames import to_frame
from passport_pipelines.store.golden_store import GoldenStore, Version
from passport_pipelines.transforms.engine import connect


def export_path(integration: Integration, folder: Path | None, version: Version) -> Path:
    base = integration.resolve_path(folder) if folder else settings.default_exports_dir(integration.district)
    return base / f"{integration.district}_{version.school_year}_v{version.number}_oneroster-1.1.zip"


def deliver_version(integration: Integration, version: Version, store: GoldenStore) -> list[dict]:
    """Write every destination of the integration; returns what was delivered where.
    Any failure marks the version 'propagation failed' (and is raised): it is never silent."""
    try:
        results = _deliver(integration, version, store)
    except Exception:
        store.set_status(version.id, "propagation failed")
        raise
    store.set_status(version.id, "successfully in production")
    return results


def _deliver(integration: Integration, version: Version, store: GoldenStore) -> list[dict]:
    results = []
    destinations = integration.destinations
    if not destinations:
        return results
    con = connect()
    try:
        current = {}
        for entity in entities.ENTITIES:
            con.register("_current", store.current_records(version.district, version.school_year, entity))
            con.execute(f"CREATE OR REPLACE TEMP TABLE current__{entity} AS SELECT * FROM _current")
            con.unregister("_current")
            current[entity] = f"current__{entity}"
        delivered = with_delivered_ids(con, current)
        frames = {e: to_frame(con.table(v).to_arrow_table()) for e, v in delivered.items()}
    finally:
        con.close()
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
