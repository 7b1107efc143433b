"""What reviewers' decisions change in delivered people: records marked redundant (``ignore``) give
no values of their own, and fields taken from a secondary record override the golden record's."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from passport_pipelines.store.duplicate_review import DuplicateReview, RecordRef
from passport_pipelines.store.golden_store import GoldenStore

DEMOGRAPHIC_FIELDS = ("birth_date", "sex")


@dataclass
class ReviewEffects:
    ignored: pa.Table  # (source, sourced_id) of redundant user records
    takes: dict[str, pa.Table]  # entity -> (golden_id, field, value, record: the SOURCE:SOURCED_ID it comes from)


def review_effects(store: GoldenStore, district: str, school_year: str) -> ReviewEffects:
    review = DuplicateReview(store)
    decisions = [d for d in review.effective(district, school_year) if d["action"] in ("delete", "ignore")]
    ignored = [(d["secondary_source"], d["secondary_sourced_id"]) for d in decisions if d["action"] == "ignore"]
    takes: dict[str, list[tuple[str, str, str, str]]] = {"users": [], "demographics": []}
    primaries = sorted({RecordRef(d["primary_source"], d["primary_sourced_id"]) for d in decisions if d["take_fields"]},
                       key=str)
    golden = review.golden_ids(district, school_year, primaries)
    for entity in takes:
        wanted = [d for d in decisions if any((f in DEMOGRAPHIC_FIELDS) == (entity == "demographics")
                                              for f in d["take_fields"])]
        if not wanted:
            continue
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
                if (f in DEMOGRAPHIC_FIELDS) == (entity == "demographics") and row.get(f) is not None:
                    takes[entity].append((target, f, str(row[f]), f"{row['source']}:{row['sourced_id']}"))
    return ReviewEffects(
        ignored=pa.table({"source": pa.array([s for s, _ in ignored], pa.string()),
                          "sourced_id": pa.array([k for _, k in ignored], pa.string())}),
        takes={e: pa.table({"golden_id": pa.array([t[0] for t in rows], pa.string()),
                            "field": pa.array([t[1] for t in rows], pa.string()),
                            "value": pa.array([t[2] for t in rows], pa.string()),
                            "record": pa.array([t[3] for t in rows], pa.string())}) for e, rows in takes.items()})
