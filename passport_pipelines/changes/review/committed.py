"""The review of a committed version, from the golden store: its change log (``record_changes``: the
records it updated, restored and deleted, with the fields that changed or why it went) and its golden
tables (the records it added, and every record's values as they are on record).

A golden table keeps each record's current values only, so an update's old values are gone once a
later commit wrote over them, and its new values are the record's current ones only while no later
version changed it again (``later_version`` says when one did). The review of the version while it
was held, or a preview before it, is where old values are shown.
"""

from __future__ import annotations

from sqlalchemy import case, select, tuple_

from passport_pipelines.changes.review.personal import shown
from passport_pipelines.changes.review.records import FieldChange, RecordChange
from passport_pipelines.model import entities
from passport_pipelines.store import schema
from passport_pipelines.store.golden_store import GoldenStore, Version

NOTE = ("old values are not kept once a version is committed (the golden store holds each record's current "
        "values): review a change before it is committed (a held sync, or passport sync --preview) to see them")
_IN_CHUNK = 500


def _values(entity: str, row: dict, show_values: bool) -> dict[str, str | None]:
    return {c: v for c in entities.content_columns(entity)
            if (v := shown(entity, c, row.get(c), show_values)) is not None}


def _golden_rows(conn, entity: str, version: Version, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict]:
    table = schema.golden_tables[entity]
    out = {}
    for start in range(0, len(keys), _IN_CHUNK):
        chunk = keys[start:start + _IN_CHUNK]
        query = select(table).where(table.c.district == version.district, table.c.school_year == version.school_year,
                                    tuple_(table.c.source, table.c.sourced_id).in_(chunk))
        out.update({(r["source"], r["sourced_id"]): dict(r) for r in conn.execute(query).mappings()})
    return out


def committed_records(store: GoldenStore, version: Version, entity_names: list[str], limit: int,
                      show_values: bool) -> list[RecordChange]:
    """The first ``limit`` records the version changed (every record when ``limit`` is 0)."""
    out: list[RecordChange] = []
    rc = schema.record_changes
    with store.engine.connect() as conn:
        for entity in entity_names:
            table = schema.golden_tables[entity]
            room = None if not limit else limit - len(out)
            if room == 0:
                break
            added = (select(table).where(table.c.district == version.district,
                                         table.c.school_year == version.school_year,
                                         table.c.first_version == version.id)
                     .order_by(table.c.source, table.c.sourced_id))
            for row in conn.execute(added.limit(room) if room else added).mappings():
                out.append(_record(entity, "added", dict(row), dict(row), version, show_values))
            room = None if not limit else limit - len(out)
            if room == 0:
                break
            rank = case((rc.c.change == "restored", 0), (rc.c.change == "updated", 1), else_=2)
            logged = (select(rc).where(rc.c.version_id == version.id, rc.c.entity == entity)
                      .order_by(rank, rc.c.source, rc.c.sourced_id))
            logged = [dict(r) for r in conn.execute(logged.limit(room) if room else logged).mappings()]
            golden = _golden_rows(conn, entity, version, [(r["source"], r["sourced_id"]) for r in logged])
            out += [_record(entity, r["change"], r, golden.get((r["source"], r["sourced_id"]), {}), version,
                            show_values) for r in logged]
    return out


def _record(entity: str, change: str, logged: dict, row: dict, version: Version, show_values: bool) -> RecordChange:
    later = row.get("last_version")
    later = later if later is not None and later != version.id else None
    record = RecordChange(entity=entity, change=change, source=logged["source"], sourced_id=logged["sourced_id"],
                          golden_id=logged["golden_id"], later_version=later)
    if change == "deleted":
        record.reason = logged.get("changed_fields")
        record.values = _values(entity, row, show_values)
    elif change == "updated":
        fields = [f for f in (logged.get("changed_fields") or "").split(",") if f]
        record.fields = [FieldChange(f, None, None if later else shown(entity, f, row.get(f), show_values),
                                     known=False) for f in fields]
    else:
        record.values = {} if later else _values(entity, row, show_values)
    return record
