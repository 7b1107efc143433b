"""The review of a held (or previewed, or approved and not yet committed) version, from its stashed
change set (``changes/held_changes.py``): the new values are in the change set, the old ones are still
the golden store's, since nothing of a held version is committed.

Only the records shown are read in full: the change set's Parquet files are scanned in DuckDB for the
first ``limit`` keys, in entity order, added before updated, then deleted, each by source and id; the
store is asked for those keys' rows alone.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from passport_pipelines.changes.review.personal import shown
from passport_pipelines.changes.review.records import FieldChange, RecordChange
from passport_pipelines.model import entities
from passport_pipelines.sql.engine import connect
from passport_pipelines.sql.quoting import lit
from passport_pipelines.store.golden_store import GoldenStore, Version

_ORDER = "CASE change WHEN 'updated' THEN 1 ELSE 0 END, source, sourced_id"


def _files(folder: Path, sources: list[str], kind: str, entity: str) -> list[str]:
    return [str(p) for p in (folder / s / f"{kind}__{entity}.parquet" for s in sources) if p.exists()]


def _listing(files: list[str]) -> str:
    return "[" + ", ".join(lit(f) for f in files) + "]"


def _values(entity: str, row: dict, show_values: bool) -> dict[str, str | None]:
    return {c: v for c in entities.content_columns(entity)
            if (v := shown(entity, c, row.get(c), show_values)) is not None}


def _keys(rows: list[dict]) -> pa.Table:
    return pa.table({"source": pa.array([r["source"] for r in rows], pa.string()),
                     "sourced_id": pa.array([r["sourced_id"] for r in rows], pa.string())})


def held_records(store: GoldenStore, version: Version, entity_names: list[str], limit: int,
                 show_values: bool) -> list[RecordChange]:
    """The first ``limit`` records of the held change set (every record when ``limit`` is 0)."""
    changes = version.held_changes["changes"]
    folder, sources = Path(changes["folder"]), list(changes["sources"])
    out: list[RecordChange] = []
    con = connect()
    try:
        for entity in entity_names:
            for kind in ("upserts", "deletes"):
                room = None if not limit else limit - len(out)
                if room == 0:
                    return out
                files = _files(folder, sources, kind, entity)
                if not files:
                    continue
                order = _ORDER if kind == "upserts" else "source, sourced_id"
                rows = con.execute(f"SELECT * FROM read_parquet({_listing(files)}, union_by_name = true) "
                                   f"ORDER BY {order}" + (f" LIMIT {int(room)}" if room else "")).to_arrow_table()
                rows = rows.to_pylist()
                if not rows:
                    continue
                wanted = [r for r in rows if kind == "deletes" or r["change"] == "updated"]
                before = {}
                if wanted:
                    stored = store.stored_rows(version.district, version.school_year, entity, _keys(wanted))
                    before = {(r["source"], r["sourced_id"]): r for r in stored.to_pylist()}
                out += [_record(entity, kind, r, before.get((r["source"], r["sourced_id"]), {}), show_values)
                        for r in rows]
    finally:
        con.close()
    return out


def _record(entity: str, kind: str, row: dict, old: dict, show_values: bool) -> RecordChange:
    base = dict(entity=entity, source=row["source"], sourced_id=row["sourced_id"], golden_id=row["golden_id"])
    if kind == "deletes":
        return RecordChange(change="deleted", reason=row.get("reason"), values=_values(entity, old, show_values),
                            **base)
    if row["change"] != "updated":
        return RecordChange(change=row["change"], values=_values(entity, row, show_values), **base)
    fields = [f for f in (row.get("changed_fields") or "").split(",") if f]
    return RecordChange(change="updated", fields=[
        FieldChange(f, shown(entity, f, old.get(f), show_values), shown(entity, f, row.get(f), show_values))
        for f in fields], **base)
