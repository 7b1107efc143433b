"""What ``find_duplicates`` returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

PAIRS_SCHEMA = pa.schema([
    pa.field("left_key", pa.string(), nullable=False),  # left_key < right_key
    pa.field("right_key", pa.string(), nullable=False),
    pa.field("domain", pa.string(), nullable=False),  # the first domain the pair satisfies
    pa.field("resolution", pa.string(), nullable=False),  # the domain's: unattended | manual
    pa.field("decision", pa.string(), nullable=False),  # merge | review
    # 1 for exact domains, the mean similarity for fuzzy, the match probability for learned weights
    pa.field("score", pa.float64(), nullable=False),
    pa.field("agreed", pa.list_(pa.string()), nullable=False),  # attributes equal after normalization
    # JSON: attribute -> similarity (3 decimals, null when blank on a side), or with learned weights
    # attribute -> {"similarity": s, "weight": w}
    pa.field("scores", pa.string(), nullable=False),
    pa.field("reason", pa.string(), nullable=False),  # why merged or held; names attributes, never values
])

CLUSTERS_SCHEMA = pa.schema([
    pa.field("record_key", pa.string(), nullable=False),
    pa.field("cluster_key", pa.string(), nullable=False),  # the smallest record_key of the cluster
])


@dataclass(frozen=True)
class LinkageResult:
    """Duplicate pairs with their decision and explanation, the clusters that the merges form, and
    per-domain counts ``{domain: {"merge": n, "review": n}}``."""

    pairs: pa.Table
    clusters: pa.Table
    counts: dict[str, dict[str, int]]
    candidates: int = 0  # candidate pairs compared (after blocking)
    oversized_blocks: int = 0  # blocking keys left out for being shared by too many records
    seconds: dict[str, float] = field(default_factory=dict)  # time per step
    # Per domain with learned weights: {attribute: {level: weight}} (log2 m/u) as fitted on this run.
    weights: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)

    @property
    def merges(self) -> int:
        return sum(c["merge"] for c in self.counts.values())

    @property
    def reviews(self) -> int:
        return sum(c["review"] for c in self.counts.values())
