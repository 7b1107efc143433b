"""Clusters: records joined by ``merge`` pairs, as connected components (scipy's csgraph, over the
records that take part in a merge only).

The cluster guard: a cluster never holds two records that differ on a distinguishing attribute.
Each merge pair is safe on its own (``guards.py``), but merging is transitive: A-B and B-C merge
when B has no birth date, even though A and C have different ones. Components are checked
vectorized; only those with a conflict are rebuilt link by link, strongest first (earlier domain,
then higher score, then smaller keys for a stable order), and a link that would bring two different
values of a distinguishing attribute into one cluster is dropped and becomes a ``review``
("cluster guard: would join records that differ on birth_date"). Conflicting clusters are rare and
small, so that loop runs over a handful of links, not over the pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from passport_pipelines.reconciliation.linkage.encoding import BLANK
from passport_pipelines.reconciliation.linkage.records import PreparedRecords

CLUSTER_GUARD = "cluster guard: would join records that differ on {}"


@dataclass(frozen=True)
class Clusters:
    kept: np.ndarray  # bool per merge link: still a merge
    refused_reason: np.ndarray  # object per merge link: why it was dropped (None if kept)
    members: np.ndarray  # positions of the records in a cluster
    cluster_of: np.ndarray  # per member, the smallest position of its cluster


def _components(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(nodes, component label per node) of the graph of the given links."""
    nodes = np.unique(np.concatenate([left, right]))
    a, b = np.searchsorted(nodes, left), np.searchsorted(nodes, right)
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(len(nodes), len(nodes)))
    _, labels = connected_components(graph, directed=False)
    return nodes, labels


def _conflicted(records: PreparedRecords, nodes: np.ndarray, labels: np.ndarray,
                distinguishing: Sequence[str]) -> np.ndarray:
    """Labels of the components that hold two different values of a distinguishing attribute."""
    bad = np.zeros(labels.max(initial=-1) + 1, dtype=bool)
    for name in distinguishing:
        values = records.attributes[name].codes[nodes]
        has = values != BLANK
        distinct = np.unique(np.column_stack([labels[has], values[has]]), axis=0)
        bad |= np.bincount(distinct[:, 0], minlength=len(bad)) > 1
    return np.flatnonzero(bad)


def _rebuild(records: PreparedRecords, left: np.ndarray, right: np.ndarray, order: np.ndarray,
             distinguishing: Sequence[str]) -> dict[int, str]:
    """Union-find over the links of conflicting components, strongest first: the links refused."""
    parent: dict[int, int] = {}
    values: dict[int, dict[str, int]] = {}

    def root(x: int) -> int:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def own(x: int) -> dict[str, int]:
        return {a: int(records.attributes[a].codes[x]) for a in distinguishing
                if records.attributes[a].codes[x] != BLANK}

    refused = {}
    for link in order:
        ra, rb = root(int(left[link])), root(int(right[link]))
        if ra == rb:
            continue
        va, vb = values.setdefault(ra, own(ra)), values.setdefault(rb, own(rb))
        clash = [a for a in distinguishing if a in va and a in vb and va[a] != vb[a]]
        if clash:
            refused[int(link)] = CLUSTER_GUARD.format(", ".join(clash))
            continue
        parent[rb] = ra
        values[ra] = {**vb, **va}
    return refused


def build_clusters(records: PreparedRecords, left: np.ndarray, right: np.ndarray, strength: np.ndarray,
                   distinguishing: Sequence[str]) -> Clusters:
    """Clusters of the merge links ``left``-``right``; ``strength`` orders links, lowest = strongest."""
    checked = [a for a in distinguishing if records.has(a)]
    kept = np.ones(len(left), dtype=bool)
    refused_reason = np.full(len(left), None, dtype=object)
    if len(left) == 0:
        return Clusters(kept, refused_reason, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    nodes, labels = _components(left, right)
    bad = _conflicted(records, nodes, labels, checked) if checked else np.zeros(0, dtype=np.int64)
    if len(bad):
        link_label = labels[np.searchsorted(nodes, left)]
        in_bad = np.flatnonzero(np.isin(link_label, bad))
        order = in_bad[np.argsort(strength[in_bad], kind="stable")]
        for link, reason in _rebuild(records, left, right, order, checked).items():
            kept[link], refused_reason[link] = False, reason
        # The strongest link of a component always stays (a merge pair never differs on its own).
        nodes, labels = _components(left[kept], right[kept])
    smallest = np.full(labels.max() + 1, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(smallest, labels, nodes)
    return Clusters(kept, refused_reason, nodes, smallest[labels])
