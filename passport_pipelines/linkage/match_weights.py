"""Match weights learned from a district's own records (``weights: learned``): the Fellegi–Sunter
model, fitted by expectation maximisation over the candidate pairs of a domain.

Each attribute's similarity (``similarity.py``) falls into a level:

- ``exact`` (1), ``close`` (>= 0.88: one typo in a name, a code or an e-mail), ``similar`` (>= 0.7: a
  mistyped birth date scores 0.8), ``different``;
- ``unknown`` when either record leaves the attribute blank. It weighs 0: a blank is neither agreement
  nor disagreement.

For every attribute and level the model learns ``m`` (how often a pair of records of one person is at
that level) and ``u`` (how often two different people's records are), and the share ``lambda`` of
candidate pairs that are one person. A level's weight is ``log2(m / u)``: positive when it speaks for a
match, negative against. A pair's match probability is
``1 / (1 + 2 ** -(log2(lambda / (1 - lambda)) + sum of its weights))``; the domain's threshold is a
plain probability (0.9: nine chances in ten that the two records are one person).

Both ``m`` and ``u`` are fitted on the candidate pairs (the population being classified, as
recordlinkage's ECM classifier does), with pseudo-counts toward typical values so that a district with
a handful of pairs gets typical weights rather than extreme ones. Pairs are grouped by their pattern of
levels first: a million pairs have a few hundred distinct patterns, so every iteration runs over the
patterns, not over the pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from passport_pipelines.linkage.similarity import TOLERANCE

LEVELS = ("different", "similar", "close", "exact")  # level k; -1 is unknown
CLOSE, SIMILAR = 0.88, 0.7
UNKNOWN = -1
# Typical shares of each level among pairs of one person (m) and of two people (u), and how many pairs'
# worth of evidence they count for.
_M_PRIOR = np.array([0.03, 0.03, 0.06, 0.88])
_U_PRIOR = np.array([0.80, 0.10, 0.05, 0.05])
_PSEUDO_PAIRS = 10.0
_LAMBDA_START = 0.1
_ITERATIONS = 200
_CONVERGED = 1e-7
_FLOOR = 1e-6  # no level is impossible: a weight stays finite


def levels(similarities: np.ndarray) -> np.ndarray:
    """Level of each similarity (pairs x attributes; NaN = blank on a side) as int8, unknown = -1."""
    out = np.zeros(similarities.shape, dtype=np.int8)
    out[similarities >= SIMILAR - TOLERANCE] = 1
    out[similarities >= CLOSE - TOLERANCE] = 2
    out[similarities >= 1 - TOLERANCE] = 3
    out[np.isnan(similarities)] = UNKNOWN
    return out


@dataclass(frozen=True)
class MatchWeights:
    """A fitted model: per attribute, ``m`` and ``u`` per level, and the prior share of matches."""

    attributes: tuple[str, ...]
    m: np.ndarray  # attributes x levels
    u: np.ndarray
    match_share: float  # lambda: share of the candidate pairs that are one person
    pairs: int  # candidate pairs it was fitted on

    @property
    def weights(self) -> np.ndarray:
        """log2(m / u), attributes x levels."""
        return np.log2(self.m / self.u)

    def pair_weights(self, pair_levels: np.ndarray) -> np.ndarray:
        """Weight of each attribute of each pair (0 where unknown)."""
        table = np.concatenate([self.weights, np.zeros((len(self.attributes), 1))], axis=1)  # column -1: unknown
        return table[np.arange(len(self.attributes)), pair_levels]

    def probability(self, pair_levels: np.ndarray) -> np.ndarray:
        """Match probability of each pair."""
        prior = np.log2(self.match_share / (1 - self.match_share))
        total = prior + self.pair_weights(pair_levels).sum(axis=1)
        return 1.0 / (1.0 + np.exp2(-np.clip(total, -1000, 1000)))

    def describe(self) -> dict[str, dict[str, float]]:
        """{attribute: {level: weight}} rounded to 2 decimals, for people to read."""
        return {a: {LEVELS[k]: round(float(self.weights[i, k]), 2) for k in range(len(LEVELS))}
                for i, a in enumerate(self.attributes)}


def _patterns(pair_levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of ``pair_levels`` and how many pairs have each."""
    if len(pair_levels) == 0:
        return np.zeros((0, pair_levels.shape[1]), dtype=np.int8), np.zeros(0)
    distinct, counts = np.unique(pair_levels, axis=0, return_counts=True)
    return distinct, counts.astype(np.float64)


def _level_counts(distinct: np.ndarray, weight: np.ndarray, attributes: int) -> np.ndarray:
    """Per attribute and level: the summed ``weight`` of the patterns at that level (unknown left out)."""
    out = np.zeros((attributes, len(LEVELS)))
    for a in range(attributes):
        known = distinct[:, a] != UNKNOWN
        out[a] = np.bincount(distinct[known, a], weights=weight[known], minlength=len(LEVELS))
    return out


def fit(attributes: list[str] | tuple[str, ...], pair_levels: np.ndarray) -> MatchWeights:
    """Fit ``m``, ``u`` and the share of matches to the candidate pairs' levels (pairs x attributes)."""
    n_attr = len(attributes)
    distinct, counts = _patterns(pair_levels)
    m = np.tile(_M_PRIOR, (n_attr, 1))
    u = np.tile(_U_PRIOR, (n_attr, 1))
    share = _LAMBDA_START
    total = counts.sum()
    rows = np.arange(n_attr)
    for _ in range(_ITERATIONS if total else 0):
        log_m = np.concatenate([np.log(m), np.zeros((n_attr, 1))], axis=1)[rows, distinct].sum(axis=1)
        log_u = np.concatenate([np.log(u), np.zeros((n_attr, 1))], axis=1)[rows, distinct].sum(axis=1)
        odds = np.log(share / (1 - share)) + log_m - log_u
        posterior = 1.0 / (1.0 + np.exp(-np.clip(odds, -700, 700)))
        as_match = posterior * counts
        as_other = (1 - posterior) * counts
        new_m = _level_counts(distinct, as_match, n_attr) + _PSEUDO_PAIRS * _M_PRIOR
        new_u = _level_counts(distinct, as_other, n_attr) + _PSEUDO_PAIRS * _U_PRIOR
        new_m = np.maximum(new_m / new_m.sum(axis=1, keepdims=True), _FLOOR)
        new_u = np.maximum(new_u / new_u.sum(axis=1, keepdims=True), _FLOOR)
        new_share = float(np.clip((as_match.sum() + 1) / (total + 2), _FLOOR, 1 - _FLOOR))
        change = max(np.abs(new_m - m).max(), np.abs(new_u - u).max(), abs(new_share - share))
        m, u, share = new_m, new_u, new_share
        if change < _CONVERGED:
            break
    return MatchWeights(tuple(attributes), m, u, share, int(total))
