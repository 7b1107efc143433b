"""The duplicate review queue: possible duplicate people waiting for a decision, after each sync."""

import dagster as dg

from passport_pipelines.changes.handoff import CommittedVersion
from passport_pipelines.jobs.asset_groups import REVIEW, sync_asset
from passport_pipelines.jobs.partitions import partition_of, sync_asset_check, sync_partitions
from passport_pipelines.resources.golden_store import GoldenStoreResource
from passport_pipelines.store.duplicate_review import DuplicateReview, domain_label

QUEUE_GROWTH = "review_queue_growth"
TOP_CASES = 20

_CASES_SCHEMA = dg.TableSchema(columns=[
    dg.TableColumn("case", "int"), dg.TableColumn("left", "string"), dg.TableColumn("right", "string"),
    dg.TableColumn("domain", "string"), dg.TableColumn("score", "float"), dg.TableColumn("agreed", "string"),
    dg.TableColumn("reason", "string"),
])


@dg.asset(
    partitions_def=sync_partitions,
    **sync_asset(REVIEW),
    kinds={"sqlalchemy"},
)
def duplicate_review_queue(context: dg.AssetExecutionContext, golden_records: CommittedVersion,
                           golden_store: GoldenStoreResource):
    """Pairs of records that may be one person and need a human: found by a manual domain, or held
    back from an unattended merge by the twin guard. Counts per domain, the strongest pending cases
    (records by source and id, never values), and what this sync merged unattended."""
    district, school_year = partition_of(context)
    review = DuplicateReview(golden_store.store())
    counts = review.queue_counts(district, school_year)
    pending = review.cases(district, school_year, status="pending")
    version_id = golden_records.id
    new_cases = _new_pending_cases(pending, version_id)
    merged = [d for d in review.decisions(district, school_year) if d["version_id"] == version_id and d["action"] == "merge"]
    merged_by_domain: dict[str, int] = {}
    for d in merged:
        label = domain_label(d["entity"], d["domain"])  # courses:by_code for a domain of courses
        merged_by_domain[label] = merged_by_domain.get(label, 0) + 1
    top = [dg.TableRecord({"case": c["id"], "left": f"{c['left_source']}:{c['left_sourced_id']}",
                           "right": f"{c['right_source']}:{c['right_sourced_id']}",
                           "domain": domain_label(c["entity"], c["domain"]),
                           "score": round(float(c["score"]), 3), "agreed": ",".join(c["agreed"]), "reason": c["reason"]})
           for c in pending[:TOP_CASES]]
    return dg.Output(
        {"pending": counts["pending"], "new_cases": new_cases, "merged": len(merged)},
        metadata={"pending": counts["pending"], "resolved": counts["resolved"], "new_cases": new_cases,
                  "pending_by_domain": dg.MetadataValue.json(counts["pending_by_domain"]),
                  "merged_this_sync": len(merged), "merged_by_domain": dg.MetadataValue.json(merged_by_domain),
                  "top_pending_cases": dg.MetadataValue.table(top, schema=_CASES_SCHEMA)},
    )


def _new_pending_cases(pending: list[dict], version_id: int) -> int:
    """The pending cases that the sync of ``version_id`` added to the queue."""
    return sum(1 for c in pending if c["created_version_id"] == version_id)


@sync_asset_check(
    asset=duplicate_review_queue, name=QUEUE_GROWTH,
    description="Warns when a sync adds cases to the review queue: someone should resolve them "
                "(passport duplicates list / resolve, or the resolve_duplicate job).",
    additional_ins={"golden_records": dg.AssetIn()},
)
def review_queue_growth(context: dg.AssetCheckExecutionContext, golden_records: CommittedVersion,
                        golden_store: GoldenStoreResource) -> dg.AssetCheckResult:
    # Read from the golden store: executed again on its own, it counts the cases of the checked
    # version still waiting for a decision.
    district, school_year = partition_of(context)
    review = DuplicateReview(golden_store.store())
    counts = review.queue_counts(district, school_year)
    new_cases = _new_pending_cases(review.cases(district, school_year, status="pending"), golden_records.id)
    return dg.AssetCheckResult(
        passed=new_cases == 0, severity=dg.AssetCheckSeverity.WARN,
        metadata={"new_cases": new_cases, "pending": counts["pending"]},
        description=(f"{new_cases} new case(s) to review; {counts['pending']} pending in all" if new_cases
                     else "no new cases"),
    )
