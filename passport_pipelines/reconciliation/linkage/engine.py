"""``find_duplicates``: the duplicate-detection engine, a pure function over a table of
person records. No Dagster, no database.

Steps: prepare (check, sort by record_key, normalize and encode the attributes) -> blocking keys per
pass (``blocking.py``) -> candidate pairs with recordlinkage's Block index (``indexing.py``) ->
domains in priority order (``matching.py``; match weights fitted for ``weights: learned`` domains,
``match_weights.py``) -> twin guard (``guards.py``) -> clusters and the cluster
guard (``clustering.py``) -> explained pairs (``explanations.py``).

Records may also come prepared already, in any order (kept from the last run and revised,
``revision.py``): then, after indexing, the records of the candidate pairs alone are put in
record_key order (``records.in_key_order``), which is all the later steps read.

Heavy work is vectorized: pyarrow kernels (and a numpy byte filter) for normalization; integer
blocking keys joined through recordlinkage's Block index (a numpy sort-based self-join for full runs,
pandas' hash join for incremental ones); ``rapidfuzz.process.cpdist`` for similarities; scipy for
connected components. Nothing loops over pairs in Python.
"""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from passport_pipelines.config.reconciliation import MatchDomain
from passport_pipelines.reconciliation.linkage import explanations
from passport_pipelines.reconciliation.linkage.blocking import blocking_passes, key_codes
from passport_pipelines.reconciliation.linkage.clustering import build_clusters
from passport_pipelines.reconciliation.linkage.guards import guard_reasons
from passport_pipelines.reconciliation.linkage.indexing import Candidates, candidate_pairs
from passport_pipelines.reconciliation.linkage.matching import match_domains
from passport_pipelines.reconciliation.linkage.records import PreparedRecords, in_key_order, prepare
from passport_pipelines.reconciliation.linkage.result import CLUSTERS_SCHEMA, PAIRS_SCHEMA, LinkageResult

TWIN_ATTRIBUTES = ("given_name", "family_name", "birth_date")


class _Clock:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.seconds[step] = round(now - self._last, 3)
        self._last = now


def _check_domains(domains: Sequence[MatchDomain]) -> list[MatchDomain]:
    domains = list(domains)
    for d in domains:
        if not isinstance(d, MatchDomain):
            raise TypeError(f"domains must be MatchDomain objects, not {type(d).__name__}")
    names = [d.name for d in domains]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"domain names must be unique: {', '.join(repeated)} given more than once")
    return domains


def _prepared(records: pa.Table | pd.DataFrame | PreparedRecords, domains: list[MatchDomain],
              distinguishing: list[str]) -> PreparedRecords:
    required = [a for d in domains for a in d.attributes]
    if not isinstance(records, PreparedRecords):
        return prepare(records, required, [*distinguishing, *TWIN_ATTRIBUTES])
    missing = [a for a in dict.fromkeys(required) if not records.has(a)]
    if missing:
        raise ValueError(f"the prepared records have no attribute {', '.join(missing)} that the domains compare")
    return records


def _in_key_order(prepared: PreparedRecords, candidates: Candidates) -> tuple[PreparedRecords, Candidates]:
    """The records of the candidate pairs in record_key order, and the pairs renumbered to match
    (left < right, sorted), when ``prepared`` is in another order (see ``records.in_key_order``)."""
    involved = np.unique(np.concatenate([candidates.left, candidates.right]))
    subset, renumbered = in_key_order(prepared, involved)
    a = renumbered[np.searchsorted(involved, candidates.left)]
    b = renumbered[np.searchsorted(involved, candidates.right)]
    left, right = np.minimum(a, b), np.maximum(a, b)
    order = np.lexsort((right, left))
    return subset, Candidates(left[order], right[order], candidates.oversized_blocks)


def find_duplicates(records: pa.Table | pd.DataFrame | PreparedRecords, domains: list[MatchDomain], *,
                    distinguishing: Sequence[str] = ("birth_date", "state_id"),
                    compare_keys: pa.Array | None = None) -> LinkageResult:
    """Duplicate person records, within and across sources.

    ``records``: one row per record, a unique string ``record_key``, and the attributes the domains
    name (strings; birth_date as YYYY-MM-DD; any may be null); or records prepared already
    (``records.prepare``, ``revision.revise``), in any order. ``domains``: in priority order.
    ``distinguishing``: attributes on which two records must not differ to be merged unattended.
    ``compare_keys``: when given, only pairs with at least one of these records are produced (new or
    changed records against each other and against all the others).
    """
    domains = _check_domains(domains)
    distinguishing = list(dict.fromkeys(distinguishing))
    clock = _Clock()
    prepared = _prepared(records, domains, distinguishing)
    focus = prepared.focus(compare_keys)
    clock.lap("prepare")
    passes = blocking_passes(domains)
    codes = [key_codes(prepared, p) for p in passes]
    clock.lap("blocking_keys")
    candidates = candidate_pairs(codes, len(prepared), focus)
    del codes
    if not prepared.key_ordered:
        prepared, candidates = _in_key_order(prepared, candidates)
    clock.lap("indexing")
    matches = match_domains(prepared, domains, candidates)
    clock.lap("comparing")

    left = np.concatenate([m.left for m in matches]) if matches else np.zeros(0, dtype=np.int64)
    right = np.concatenate([m.right for m in matches]) if matches else np.zeros(0, dtype=np.int64)
    priority = np.concatenate([np.full(len(m), m.priority) for m in matches]) if matches else np.zeros(0, int)
    score = np.concatenate([m.score for m in matches]) if matches else np.zeros(0)
    merge_parts, reason_parts = [], []
    for m in matches:
        guard = guard_reasons(prepared, m.left, m.right, distinguishing)
        merge_parts.append(pd.isna(guard).astype(bool) & (m.domain.resolution == "unattended"))
        reason_parts.append(explanations.reasons(m.domain, guard, m.names_swapped))
    merge = np.concatenate(merge_parts) if matches else np.zeros(0, dtype=bool)
    reason = np.concatenate(reason_parts) if matches else np.zeros(0, dtype=object)
    clock.lap("guards")

    # Strength of a merge link for the cluster guard: earlier domain, higher score, smaller keys.
    strength = np.empty(len(left), dtype=np.int64)
    strength[np.lexsort((right, left, -score, priority))] = np.arange(len(left))
    merged = np.flatnonzero(merge)
    clusters = build_clusters(prepared, left[merged], right[merged], strength[merged], distinguishing)
    refused = merged[~clusters.kept]
    merge[refused] = False
    reason[refused] = clusters.refused_reason[~clusters.kept]
    clock.lap("clusters")

    pairs = _pairs_table(prepared.keys, matches, left, right, score, merge, reason)
    cluster_table = pa.table({"record_key": prepared.keys.take(clusters.members),
                              "cluster_key": prepared.keys.take(clusters.cluster_of)}, schema=CLUSTERS_SCHEMA)
    counts = {d.name: {"merge": int((merge & (priority == k)).sum()), "review": int((~merge & (priority == k)).sum())}
              for k, d in enumerate(domains)}
    clock.lap("explain")
    learned = {m.domain.name: m.model.describe() for m in matches if m.model is not None}
    return LinkageResult(pairs, cluster_table, counts, candidates=len(candidates),
                         oversized_blocks=candidates.oversized_blocks, seconds=clock.seconds, weights=learned)


def _pairs_table(keys: pa.Array, matches, left, right, score, merge, reason) -> pa.Table:
    if len(left) == 0:
        return PAIRS_SCHEMA.empty_table()
    domain = np.concatenate([np.full(len(m), m.domain.name, dtype=object) for m in matches])
    resolution = np.concatenate([np.full(len(m), m.domain.resolution, dtype=object) for m in matches])
    agreed = pa.concat_arrays([explanations.agreed(m.domain.attributes, m.attribute_scores) for m in matches])
    scores = pa.concat_arrays([explanations.scores_json(m.domain.attributes, m.attribute_scores, m.attribute_weights)
                               for m in matches])
    table = pa.table({
        "left_key": keys.take(left), "right_key": keys.take(right),
        "domain": pa.array(domain, pa.string()), "resolution": pa.array(resolution, pa.string()),
        "decision": pa.array(np.where(merge, "merge", "review"), pa.string()),
        "score": pa.array(score, pa.float64()), "agreed": agreed, "scores": scores,
        "reason": pa.array(reason, pa.string()),
    }, schema=PAIRS_SCHEMA)
    # Positions follow record_key order, so this sorts by (left_key, right_key).
    return table.take(np.lexsort((right, left)))
