"""Domains applied to candidate pairs, in priority order: a pair belongs to the first domain it
satisfies and is not offered to the later ones.

- ``exact``: every attribute equal after normalization and non-blank on both sides (score 1).
- ``fuzzy``: every attribute non-blank on both sides and the mean of the attribute similarities
  (``similarity.py``) >= threshold. When the domain holds both given_name and family_name and a pair
  falls short, the names are also compared crosswise (given against family): records with the two
  names swapped are a common entry error, and the better of the two readings counts (reported as
  ``names_swapped``). A tolerance of 1e-9 absorbs floating-point noise at the threshold.
- ``fuzzy`` with ``missing: unknown``: an attribute blank on either record is unknown and left out of
  the score (its similarity is NaN in the explanation); at least ``domain.min_compared`` attributes must
  be non-blank on both. The score is the mean similarity of the attributes compared, or, with
  ``weights: learned``, the match probability of the district's fitted model (``match_weights.py``),
  whose per-attribute weights the pair's explanation carries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from passport_pipelines.config.reconciliation import MatchDomain
from passport_pipelines.reconciliation.linkage.attribute_kinds import kind_of
from passport_pipelines.reconciliation.linkage.encoding import BLANK, shared_vocabulary
from passport_pipelines.reconciliation.linkage.indexing import Candidates
from passport_pipelines.reconciliation.linkage.match_weights import MatchWeights, fit, levels
from passport_pipelines.reconciliation.linkage.records import PreparedRecords
from passport_pipelines.reconciliation.linkage.similarity import TOLERANCE, similarity

GIVEN, FAMILY = "given_name", "family_name"


@dataclass(frozen=True)
class DomainMatches:
    """The pairs one domain claimed, with what explains them."""

    domain: MatchDomain
    priority: int  # 0 = first domain
    left: np.ndarray
    right: np.ndarray
    score: np.ndarray  # combined score (1 for exact domains)
    attribute_scores: np.ndarray  # pairs x domain.attributes
    names_swapped: np.ndarray  # bool: given and family name matched crosswise
    attribute_weights: np.ndarray | None = None  # pairs x domain.attributes, learned weights only
    model: MatchWeights | None = None  # the learned model (weights: learned)

    def __len__(self) -> int:
        return len(self.left)


def _exact(records: PreparedRecords, domain: MatchDomain, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    ok = np.ones(len(left), dtype=bool)
    for name in domain.attributes:
        codes = records.attributes[name].codes
        ok &= (codes[left] == codes[right]) & (codes[left] != BLANK)
    return ok


def _present(records: PreparedRecords, domain: MatchDomain, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    ok = np.ones(len(left), dtype=bool)
    for name in domain.attributes:
        codes = records.attributes[name].codes
        ok &= (codes[left] != BLANK) & (codes[right] != BLANK)
    return ok


# Cheap and telling attributes first: after each one, pairs that could not reach the threshold even if
# every attribute still to come scored 1 are dropped, so names are scored for few pairs.
_COST = {"category": 0, "date": 1, "code": 2, "email": 2, "text": 3, "name": 4}


def _fuzzy(records: PreparedRecords, domain: MatchDomain, left: np.ndarray, right: np.ndarray):
    """(matching rows, attribute scores, mean, names swapped) of the pairs, all attributes present."""
    attrs = domain.attributes
    m, needed = len(attrs), domain.threshold * len(attrs) - TOLERANCE
    swappable = GIVEN in attrs and FAMILY in attrs
    names = (GIVEN, FAMILY) if swappable else ()
    scores = np.zeros((len(left), m))
    total = np.zeros(len(left))
    others = np.zeros(len(left))  # the total without the names of a swappable domain (all of it otherwise)
    alive = np.arange(len(left))
    others_to_score = m - len(names)
    for k in sorted(range(m), key=lambda k: (_COST[kind_of(attrs[k])], k)):
        codes = records.attributes[attrs[k]].codes
        s = similarity(records.attributes[attrs[k]], codes[left[alive]], codes[right[alive]])
        scores[alive, k] = s
        total[alive] += s
        if attrs[k] not in names:
            others[alive] += s
            others_to_score -= 1
            # Best case: everything still to score is 1 (swappable names count 2 until read both ways).
            alive = alive[others[alive] + others_to_score + len(names) >= needed]
    swapped = np.zeros(len(left), dtype=bool)
    if swappable:
        # Names scored last: a pair short of the threshold may read better with the names crosswise.
        gi, fi = attrs.index(GIVEN), attrs.index(FAMILY)
        short = alive[total[alive] < needed]
        if len(short):
            g, f = shared_vocabulary(records.attributes[GIVEN], records.attributes[FAMILY])
            sl, sr = left[short], right[short]
            cross_given = similarity(g, g.codes[sl], f.codes[sr])
            cross_family = similarity(g, f.codes[sl], g.codes[sr])
            better = cross_given + cross_family > scores[short, gi] + scores[short, fi]
            rows = short[better]
            scores[rows, gi], scores[rows, fi] = cross_given[better], cross_family[better]
            total[rows] = others[rows] + cross_given[better] + cross_family[better]
            swapped[rows] = True
    ok = alive[total[alive] >= needed]
    return ok, scores[ok], total[ok] / m, swapped[ok]


def _names_crosswise(records: PreparedRecords, domain: MatchDomain, left: np.ndarray, right: np.ndarray,
                     sims: np.ndarray) -> np.ndarray:
    """Reads given and family names crosswise where that reads better (``sims`` updated in place);
    which pairs had their names swapped."""
    attrs = domain.attributes
    swapped = np.zeros(len(left), dtype=bool)
    if GIVEN in attrs and FAMILY in attrs:
        gi, fi = attrs.index(GIVEN), attrs.index(FAMILY)
        g, f = shared_vocabulary(records.attributes[GIVEN], records.attributes[FAMILY])
        straight = sims[:, gi] + sims[:, fi]
        # Only pairs with all four names and short of full agreement can read better crosswise.
        rows = np.flatnonzero(~np.isnan(straight) & (straight < 2 - TOLERANCE))
        sl, sr = left[rows], right[rows]
        cross_given = similarity(g, g.codes[sl], f.codes[sr])
        cross_family = similarity(g, f.codes[sl], g.codes[sr])
        better = cross_given + cross_family > straight[rows]
        rows = rows[better]
        sims[rows, gi], sims[rows, fi] = cross_given[better], cross_family[better]
        swapped[rows] = True
    return swapped


def _similarity_or_nan(records: PreparedRecords, name: str, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    attribute = records.attributes[name]
    cl, cr = attribute.codes[left], attribute.codes[right]
    present = (cl != BLANK) & (cr != BLANK)
    out = np.full(len(left), np.nan)
    out[present] = similarity(attribute, cl[present], cr[present])
    return out


def _compared(records: PreparedRecords, domain: MatchDomain, left: np.ndarray, right: np.ndarray):
    """Similarity of every attribute of every pair (NaN where blank on either record), names read
    crosswise where that reads better; and which pairs had their names swapped."""
    sims = np.column_stack([_similarity_or_nan(records, a, left, right) for a in domain.attributes]) \
        if domain.attributes else np.zeros((len(left), 0))
    return sims, _names_crosswise(records, domain, left, right, sims)


# Candidate pairs the learned weights are fitted on: what the fit needs is the patterns of levels, and
# 200,000 pairs show them all; a larger district's pairs are sampled (seeded: reproducible).
FIT_SAMPLE = 200_000


def _scored(records: PreparedRecords, domain: MatchDomain, left: np.ndarray, right: np.ndarray,
            model: MatchWeights):
    """(rows that can reach the threshold, their similarities, names swapped): attributes scored
    cheapest first, names last; after each, pairs that could not reach the threshold even if every
    attribute still to come were at its best level are dropped, so names are scored for few pairs."""
    attrs = domain.attributes
    table = np.concatenate([model.weights, np.zeros((len(attrs), 1))], axis=1)  # column -1: unknown
    best = np.maximum(model.weights.max(axis=1), 0.0)
    share = model.match_share
    needed = np.log2(min(domain.threshold, 1 - 1e-12) / (1 - min(domain.threshold, 1 - 1e-12))) - 1e-6
    total = np.full(len(left), np.log2(share / (1 - share)))
    to_come = best.sum()
    alive = np.arange(len(left))
    sims = np.full((len(left), len(attrs)), np.nan)
    names = [k for k, a in enumerate(attrs) if a in (GIVEN, FAMILY)]
    for k in sorted((k for k in range(len(attrs)) if k not in names), key=lambda k: (_COST[kind_of(attrs[k])], k)):
        s = _similarity_or_nan(records, attrs[k], left[alive], right[alive])
        sims[alive, k] = s
        total[alive] += table[k, levels(s[:, None], [kind_of(attrs[k]) == "name"])[:, 0]]
        to_come -= best[k]
        alive = alive[total[alive] + to_come >= needed]
    for k in names:
        sims[alive, k] = _similarity_or_nan(records, attrs[k], left[alive], right[alive])
    part = sims[alive]
    swapped = _names_crosswise(records, domain, left[alive], right[alive], part)
    return alive, part, swapped


def _names(domain: MatchDomain) -> list[bool]:
    return [kind_of(a) == "name" for a in domain.attributes]


def _tolerant(records: PreparedRecords, domain: MatchDomain, left: np.ndarray, right: np.ndarray):
    """(matching rows, attribute similarities, score, names swapped, attribute weights, model) of the
    pairs of a ``missing: unknown`` or ``weights: learned`` domain."""
    if domain.weights == "learned" and len(left) > FIT_SAMPLE:
        sample = np.sort(np.random.default_rng(0).choice(len(left), FIT_SAMPLE, replace=False))
        fitted, _ = _compared(records, domain, left[sample], right[sample])
        fitted = fitted[(~np.isnan(fitted)).sum(axis=1) >= domain.min_compared]
        model = fit(domain.attributes, levels(fitted, _names(domain)))
        rows, sims, swapped = _scored(records, domain, left, right, model)
    else:
        sims, swapped = _compared(records, domain, left, right)
        rows, model = np.arange(len(left)), None
    enough = (~np.isnan(sims)).sum(axis=1) >= domain.min_compared
    rows, sims, swapped = rows[enough], sims[enough], swapped[enough]
    if domain.weights == "learned":
        pair_levels = levels(sims, _names(domain))
        model = model or fit(domain.attributes, pair_levels)
        score = model.probability(pair_levels)
        ok = np.flatnonzero(score >= domain.threshold - TOLERANCE)
        return rows[ok], sims[ok], score[ok], swapped[ok], model.pair_weights(pair_levels[ok]), model
    with np.errstate(invalid="ignore"):
        score = np.nanmean(sims, axis=1) if sims.shape[1] else np.zeros(len(sims))
    ok = np.flatnonzero(score >= domain.threshold - TOLERANCE)
    return rows[ok], sims[ok], score[ok], swapped[ok], None, None


def match_domains(records: PreparedRecords, domains: list[MatchDomain], candidates: Candidates) -> list[DomainMatches]:
    """Each domain's matches among the candidate pairs, first domain first."""
    remaining = np.ones(len(candidates), dtype=bool)
    out = []
    for priority, domain in enumerate(domains):
        idx = np.flatnonzero(remaining)
        left, right = candidates.left[idx], candidates.right[idx]
        m = len(domain.attributes)
        if domain.match == "exact":
            ok = _exact(records, domain, left, right)
            idx, left, right = idx[ok], left[ok], right[ok]
            scores, mean, swapped = np.ones((len(idx), m)), np.ones(len(idx)), np.zeros(len(idx), dtype=bool)
        elif domain.missing == "unknown" or domain.weights == "learned":
            ok, scores, mean, swapped, weights, model = _tolerant(records, domain, left, right)
            idx, left, right = idx[ok], left[ok], right[ok]
            remaining[idx] = False
            out.append(DomainMatches(domain, priority, left, right, mean, scores, swapped, weights, model))
            continue
        else:
            present = _present(records, domain, left, right)
            idx, left, right = idx[present], left[present], right[present]
            ok, scores, mean, swapped = _fuzzy(records, domain, left, right)
            idx, left, right = idx[ok], left[ok], right[ok]
        remaining[idx] = False
        out.append(DomainMatches(domain, priority, left, right, mean, scores, swapped))
    return out
