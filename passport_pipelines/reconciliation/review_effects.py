"""What reviewers' decisions change in delivered golden records: records marked redundant (``ignore``)
give no values of their own, and fields taken from a secondary record override the golden record's.
For people (a user's fields, and the birth date and sex of their demographics) and for the orgs,
academic sessions, courses and classes a domain of uniqueness merges."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from passport_pipelines.config.reconciliation import RECORD_ENTITIES
from passport_pipelines.store.duplicate_review import DuplicateReview, RecordRef
from passport_pipelines.store.golden_store import GoldenStore

DEMOGRAPHIC_FIELDS = ("birth_date", "sex")


@dataclass
class ReviewEffects:
    ignored: dict[str, pa.Table]  # entity -> (source, sourced_id) of its redundant records
    takes: dict[str, pa.Table]  # entity -> (golden_id, field, value, record: the SOURCE:SOURCED_ID it comes from)

    def ignored_of(self, entity: str) -> pa.Table:
        """(source, sourced_id) of the entity's redundant records (none: an empty table)."""
        if entity in self.ignored:
            return self.ignored[entity]
        return pa.table({"source": pa.array([], pa.string()), "sourced_id": pa.array([], pa.string())})


def _target(decision: dict, field: str) -> str:
    """The entity whose golden record a taken field goes into."""
    if decision["entity"] == "users" and field in DEMOGRAPHIC_FIELDS:
        return "demographics"
    return decision["entity"]


def review_effects(store: GoldenStore, district: str, school_year: str) -> ReviewEffects:
    review = DuplicateReview(store)
    decisions = [d for d in review.effective(district, school_year) if d["action"] in ("delete", "ignore")]
    ignored: dict[str, list[tuple[str, str]]] = {}
    for d in decisions:
        if d["action"] == "ignore":
            ignored.setdefault(d["entity"], []).append((d["secondary_source"], d["secondary_sourced_id"]))
    takes: dict[str, list[tuple[str, str, str, str]]] = {e: [] for e in ("users", "demographics", *RECORD_ENTITIES)}
    for entity in takes:
        wanted = [d for d in decisions if any(_target(d, f) == entity for f in d["take_fields"])]
        if not wanted:
            continue
        owner = "users" if entity == "demographics" else entity  # whose records the decisions name
        primaries = sorted({RecordRef(d["primary_source"], d["primary_sourced_id"]) for d in wanted}, key=str)
        golden = review.golden_ids(district, school_year, primaries, owner)
        keys = pa.table({"source": [d["secondary_source"] for d in wanted],
                         "sourced_id": [d["secondary_sourced_id"] for d in wanted]})
        stored = store.stored_rows(district, school_year, entity, keys).to_pylist()
        rows = {(r["source"], r["sourced_id"]): r for r in stored}
        for d in wanted:
            row = rows.get((d["secondary_source"], d["secondary_sourced_id"]))
            target = golden.get(RecordRef(d["primary_source"], d["primary_sourced_id"]))
            if row is None or target is None:
                continue
            for f in d["take_fields"]:
                if _target(d, f) == entity and row.get(f) is not None:
                    takes[entity].append((target, f, str(row[f]), f"{row['source']}:{row['sourced_id']}"))

    def record_table(pairs: list[tuple[str, str]]) -> pa.Table:
        return pa.table({"source": pa.array([s for s, _ in pairs], pa.string()),
                         "sourced_id": pa.array([k for _, k in pairs], pa.string())})

    return ReviewEffects(
        ignored={e: record_table(pairs) for e, pairs in ignored.items()},
        takes={e: pa.table({"golden_id": pa.array([t[0] for t in rows], pa.string()),
                            "field": pa.array([t[1] for t in rows], pa.string()),
                            "value": pa.array([t[2] for t in rows], pa.string()),
                            "record": pa.array([t[3] for t in rows], pa.string())}) for e, rows in takes.items()})
