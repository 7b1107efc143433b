"""Duplicate detection for person records: domains of uniqueness applied in priority
order, blocking with recordlinkage, vectorized similarity with rapidfuzz, the twin guard, and
clusters of merged records. A pure library: tables in, tables out.

    from passport_pipelines.reconciliation.linkage import find_duplicates
    result = find_duplicates(records, reconciliation.domains_for("users"),
                             distinguishing=reconciliation.distinguishing)
    result.pairs     # left_key, right_key, domain, resolution, decision, score, agreed, scores, reason
    result.clusters  # record_key, cluster_key
    result.counts    # {domain: {"merge": n, "review": n}}
    result.weights   # {domain: {attribute: {level: weight}}} for domains with weights: learned

See docs/reconciliation.md.
"""

from passport_pipelines.reconciliation.linkage.engine import find_duplicates
from passport_pipelines.reconciliation.linkage.result import (
    CLUSTERS_SCHEMA,
    PAIRS_SCHEMA,
    LinkageResult,
)

__all__ = ["find_duplicates", "LinkageResult", "PAIRS_SCHEMA", "CLUSTERS_SCHEMA"]
