"""The delivered golden data of a version: one frame per entity, golden ids in place, one row per person
(and per golden org, academic session, course and class, which domains of uniqueness may merge).

Built once per delivery and shared by every destination, each of which then sees it through its
own privacy shield (``privacy_shield.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from passport_pipelines.config.integration import Integration
from passport_pipelines.config.reconciliation import RECORD_ENTITIES
from passport_pipelines.delivery.delivered_ids import REFERENCED, delivered_view
from passport_pipelines.delivery.golden_snapshots import (
    REVIEWED,
    latest_snapshot,
    register_current,
)
from passport_pipelines.model import entities
from passport_pipelines.model.frames import to_frame
from passport_pipelines.reconciliation.golden_people import (
    PERSON_ENTITIES,
    golden_people_view,
    lineage_rows,
)
from passport_pipelines.reconciliation.review_effects import (
    ReviewEffects,
    review_effects,
)
from passport_pipelines.store.golden_store import GoldenStore, Version
from passport_pipelines.transforms.engine import connect
from passport_pipelines.transforms.sql_text import lit

# Columns that only say where a record came from: never delivered.
UNEXPORTED_COLUMNS = ("content_hash", "district", "school_year", "source", "date_last_modified")
# Entities whose records a golden id may gather: delivered one row per golden id (master fields).
MERGED_ENTITIES = (*PERSON_ENTITIES, *RECORD_ENTITIES)


@dataclass
class GoldenFrames:
    frames: dict[str, pd.DataFrame]
    lineage: pa.Table | None  # attribute lineage of merged people (users)
    org_keys: pa.Table  # source, sourced_id, golden_id of the orgs: what a shield's school list may name


# Columns that are the same on every record of a delivery, or never delivered: not read from the store
# (at a million students they are a fifth of what the read moves), only stood in for in the view.
_STANDINS = ("district", "school_year", "content_hash")


def _register_current(con, store: GoldenStore, version: Version, entity: str, snapshot: Path | None) -> None:
    """``current``: the committed, not deleted records of the entity, with golden ids: from the latest
    version's snapshot (``golden_snapshots.py``) when it has every current record, else from the store."""
    if snapshot is not None:
        register_current(con, store, snapshot, version, entity, "current")
        if entity not in REVIEWED or not con.execute(
                "SELECT count(*) FROM current__keys AS k ANTI JOIN current AS c "
                "ON c.source = k.source AND c.sourced_id = k.sourced_id").fetchone()[0]:
            return
    read = [c for c in ("golden_id", *entities.columns(entity)) if c not in _STANDINS]
    con.register("current_read", store.current_records(version.district, version.school_year, entity, read))
    con.execute(f"CREATE OR REPLACE TEMP VIEW current AS SELECT *, {lit(version.district)} AS district, "
                f"{lit(version.school_year)} AS school_year, CAST(NULL AS VARCHAR) AS content_hash FROM current_read")


def _release_current(con, entity: str) -> None:
    """Drop what the entity's frame was built from: the next entity's starts from an empty connection
    (at a million students the people's working tables alone were most of a gigabyte)."""
    con.execute("DROP VIEW IF EXISTS current")
    for table in (f"records__{entity}", f"merged__{entity}", f"golden_people__{entity}", "merged__lineage"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    for name in ("current_read", "current__keys"):
        try:
            con.unregister(name)
        except duckdb.Error:
            pass  # not registered for this entity


def _people_only(con, entity: str, effects: ReviewEffects) -> str:
    """``current`` less the records a reviewer marked redundant ("ignore"): no person (or school, course...)
    of their own, and no values given to the golden record they belong to."""
    if entity not in effects.ignored or not effects.ignored[entity].num_rows:
        return "current"
    con.register(f"ignored__{entity}", effects.ignored[entity])
    con.execute(f"CREATE OR REPLACE TEMP VIEW current_kept AS SELECT * FROM current AS c WHERE NOT EXISTS "
                f"(SELECT 1 FROM ignored__{entity} AS i WHERE i.source = c.source AND i.sourced_id = c.sourced_id)")
    return "current_kept"


def _one_row_per_person(con, entity: str, view: str, effects: ReviewEffects, integration: Integration):
    """Records merged into one golden id become one row, field by field (master fields); for users,
    also the lineage of every merged person."""
    sources = [s.name for s in integration.sources]
    takes = effects.takes.get(entity)
    taken = None
    if takes is not None and takes.num_rows:
        con.register(f"takes__{entity}", takes)
        taken = f"takes__{entity}"
    lineage = lineage_rows(con, _people_only(con, entity, effects), master_fields=integration.master_fields,
                           sources=sources, takes=taken) if entity == "users" else None
    view = golden_people_view(con, entity, view, master_fields=integration.master_fields, sources=sources,
                              takes=taken)
    return view, lineage


def golden_frames(integration: Integration, version: Version, store: GoldenStore) -> GoldenFrames:
    con = connect()
    try:
        keys = {}
        for entity in REFERENCED:
            table = store.current_keys(version.district, version.school_year, entity,
                                       merged=entity in ("users", *RECORD_ENTITIES))
            con.register(f"keys__{entity}", table)
            keys[entity] = f"keys__{entity}"
            if entity == "orgs":
                org_keys = table
        effects = review_effects(store, version.district, version.school_year)
        snapshot = latest_snapshot(store, version.district, version.school_year)
        frames, lineage = {}, None
        for entity in entities.ENTITIES:
            # One entity's full rows at a time; DuckDB scans the Arrow table in place. Columns the
            # export never writes are left behind, so a district's frames stay within budget.
            _register_current(con, store, version, entity, snapshot)
            view = delivered_view(con, entity, _people_only(con, entity, effects), keys)
            if entity in MERGED_ENTITIES:
                view, found = _one_row_per_person(con, entity, view, effects, integration)
                lineage = found if found is not None else lineage
            frames[entity] = to_frame(con.execute(f"SELECT * EXCLUDE ({', '.join(UNEXPORTED_COLUMNS)}) FROM {view}")
                                      .to_arrow_table())
            _release_current(con, entity)
            pa.default_memory_pool().release_unused()
    finally:
        con.close()
    return GoldenFrames(frames=frames, lineage=lineage, org_keys=org_keys)
