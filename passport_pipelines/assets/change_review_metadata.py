"""A held sync's changes, record by record, in its ``sync_hold`` check: the first records with what
changed (personal values withheld: this is run metadata), the totals, and the command that lists
them all (with values, for a person entitled to see them)."""

from __future__ import annotations

import dagster as dg

from passport_pipelines.changes.review.records import DEFAULT_LIMIT
from passport_pipelines.changes.review.review import review_version
from passport_pipelines.store.golden_store import GoldenStore, Version

_SCHEMA = dg.TableSchema(columns=[
    dg.TableColumn("entity", "string"), dg.TableColumn("change", "string"), dg.TableColumn("record", "string"),
    dg.TableColumn("golden_id", "string"), dg.TableColumn("detail", "string"),
])


def change_review_metadata(store: GoldenStore, version: Version) -> dict:
    review = review_version(store, version, limit=DEFAULT_LIMIT, show_values=False)
    rows = [dg.TableRecord({"entity": r.entity, "change": r.change, "record": r.record, "golden_id": r.golden_id,
                            "detail": r.detail()[:500]}) for r in review.records]
    command = f"passport changes {version.district} {version.number} --school-year {version.school_year}"
    return {
        "changes_review": dg.MetadataValue.table(rows, schema=_SCHEMA),
        "changes_review_shown": f"the first {len(rows)} of {review.total:,} changed records; personal values "
                                f"withheld. Every record: {command} [--show-values]",
        "changes_command": command,
    }
