"""Match weights learned from a district's own records (``weights: learned``): the Fellegi–Sunter
model, fitted by expectation maximisation over the candidate pairs of a domain.

Each attribute's similarity (``similarity.py``) falls into a level:

- ``exact`` (1), ``close`` (>= 0.88: one typo in a code or an e-mail; names >= 0.92), ``similar``
  (>= 0.7: a mistyped birth date scores 0.8; names >= 0.85), ``different``;
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
a handful of pairs gets typical weights rather than extreme ones. Candidates are not random pairs:
blocking pairs records that agree exactly on two attributes, so among candidates exact agreement looks
common, also between different people. Each attribute's final ``m`` and ``u`` are therefore counted
on the candidates that two *other* attributes made candidates. Fitting ``u`` on random pairs instead
(as splink does) fails on school data: siblings share a family name, an address and a guardian's
e-mail, and the fit takes households for people. Pairs are grouped by their pattern of
levels first: a million pairs have a few hundred distinct patterns, so every iteration runs over the
patterns, not over the pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from passport_pipelines.reconciliation.linkage.similarity import TOLERANCE

LEVELS = ("different", "similar", "close", "exact")  # level k; -1 is unknown
CLOSE, SIMILAR = 0.88, 0.7
NAME_CLOSE, NAME_SIMILAR = 0.92, 0.85  # Jaro-Winkler: "jon"/"john" 0.93, a typo in a long name ~0.95
UNKNOWN = -1
# Typical shares of each level among pairs of one person (m) and of two people (u), and how many pairs'
# worth of evidence they count for.
_M_PRIOR = np.array([0.03, 0.03, 0.06, 0.88])
_U_PRIOR = np.array([0.80, 0.10, 0.05, 0.05])
_PSEUDO_PAIRS = 10.0
# Records of one person rarely differ entirely on an attribute. Without this bound the fit can take
# another real structure of school data for "one person": households (siblings share family name,
# address and guardian e-mail), which always differ on given name and birth date.
_M_DIFFERENT_MAX = 0.1
_LAMBDA_START = 0.1
_ITERATIONS = 200
_CONVERGED = 1e-7
_FLOOR = 1e-6  # no level is impossible: a weight stays finite


def levels(similarities: np.ndarray, names: np.ndarray | None = None) -> np.ndarray:
    """Level of each similarity (pairs x attributes; NaN = blank on a side) as int8, unknown = -1.
    ``names``: per attribute, whether it is a name (Jaro-Winkler, which scores two different names
    higher than Levenshtein scores two different codes, so names get higher cut-offs)."""
    names = np.zeros(similarities.shape[1], dtype=bool) if names is None else np.asarray(names, dtype=bool)
    close = np.where(names, NAME_CLOSE, CLOSE)
    similar = np.where(names, NAME_SIMILAR, SIMILAR)
    out = np.zeros(similarities.shape, dtype=np.int8)
    with np.errstate(invalid="ignore"):
        out[similarities >= similar - TOLERANCE] = 1
        out[similarities >= close - TOLERANCE] = 2
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
    n_attr = pair_levels.shape[1]
    if len(pair_levels) == 0:
        return np.zeros((0, n_attr), dtype=np.int8), np.zeros(0)
    radix = len(LEVELS) + 1
    if n_attr > 27:  # 5**27 is the last power below 2**63
        distinct, counts = np.unique(pair_levels, axis=0, return_counts=True)
        return distinct, counts.astype(np.float64)
    # One integer per pattern (base 5: unknown and the four levels); np.unique over rows is 20x slower.
    powers = radix ** np.arange(n_attr, dtype=np.int64)
    codes = (pair_levels.astype(np.int64) + 1) @ powers
    distinct, counts = np.unique(codes, return_counts=True)
    return ((distinct[:, None] // powers) % radix - 1).astype(np.int8), counts.astype(np.float64)


def _unblocked(distinct: np.ndarray) -> np.ndarray:
    """Per pattern and attribute: whether the pattern tells about the attribute without the bias of
    blocking, i.e. at least two *other* attributes are exact (the pair would be a candidate whatever
    the attribute says). Blocking pairs records that agree exactly on some attributes; counting every
    candidate would make exact agreement look common among different people (exact names would weigh
    little) and among matches."""
    exact = distinct == 3
    return exact.sum(axis=1, keepdims=True) - exact >= 2


def _level_counts(distinct: np.ndarray, weight: np.ndarray, attributes: int,
                  usable: np.ndarray | None = None) -> np.ndarray:
    """Per attribute and level: the summed ``weight`` of the patterns at that level (unknown left out,
    and patterns not ``usable`` for the attribute)."""
    out = np.zeros((attributes, len(LEVELS)))
    for a in range(attributes):
        known = distinct[:, a] != UNKNOWN
        if usable is not None:
            known &= usable[:, a]
        out[a] = np.bincount(distinct[known, a], weights=weight[known], minlength=len(LEVELS))
    return out


def _posterior(m: np.ndarray, u: np.ndarray, share: float, distinct: np.ndarray) -> np.ndarray:
    """E step: each pattern's probability of being a match."""
    rows = np.arange(len(m))
    log_m = np.concatenate([np.log(m), np.zeros((len(m), 1))], axis=1)[rows, distinct].sum(axis=1)
    log_u = np.concatenate([np.log(u), np.zeros((len(u), 1))], axis=1)[rows, distinct].sum(axis=1)
    odds = np.log(share / (1 - share)) + log_m - log_u
    return 1.0 / (1.0 + np.exp(-np.clip(odds, -700, 700)))


def _capped(m: np.ndarray) -> np.ndarray:
    """``m`` with the share of ``different`` at most ``_M_DIFFERENT_MAX``, the rest scaled up to match."""
    over = m[:, 0] > _M_DIFFERENT_MAX
    if over.any():
        m = m.copy()
        rest = m[over, 1:]
        m[over, 1:] = rest / rest.sum(axis=1, keepdims=True) * (1 - _M_DIFFERENT_MAX)
        m[over, 0] = _M_DIFFERENT_MAX
    return m


def _m_step(distinct: np.ndarray, counts: np.ndarray, posterior: np.ndarray, usable: np.ndarray | None):
    """M step: ``m``, ``u`` and the share of matches from the patterns' posteriors (with pseudo-counts)."""
    n_attr = distinct.shape[1]
    as_match, as_other = posterior * counts, (1 - posterior) * counts
    m = _level_counts(distinct, as_match, n_attr, usable) + _PSEUDO_PAIRS * _M_PRIOR
    u = _level_counts(distinct, as_other, n_attr, usable) + _PSEUDO_PAIRS * _U_PRIOR
    m = _capped(np.maximum(m / m.sum(axis=1, keepdims=True), _FLOOR))
    u = np.maximum(u / u.sum(axis=1, keepdims=True), _FLOOR)
    share = float(np.clip((as_match.sum() + 1) / (counts.sum() + 2), _FLOOR, 1 - _FLOOR))
    return m, u, share


def fit(attributes: list[str] | tuple[str, ...], pair_levels: np.ndarray) -> MatchWeights:
    """Fit ``m``, ``u`` and the share of matches to the candidate pairs' levels (pairs x attributes).

    EM over all candidate pairs classifies them; then, with three attributes or more, a last M step
    re-estimates each attribute's ``m`` and ``u`` from the pairs that would be candidates whatever that
    attribute says (``_unblocked``), which is what the weights are."""
    n_attr = len(attributes)
    distinct, counts = _patterns(pair_levels)
    m = np.tile(_M_PRIOR, (n_attr, 1))
    u = np.tile(_U_PRIOR, (n_attr, 1))
    share = _LAMBDA_START
    if counts.sum() == 0:
        return MatchWeights(tuple(attributes), m, u, share, 0)
    for _ in range(_ITERATIONS):
        new_m, new_u, new_share = _m_step(distinct, counts, _posterior(m, u, share, distinct), None)
        change = max(np.abs(new_m - m).max(), np.abs(new_u - u).max(), abs(new_share - share))
        m, u, share = new_m, new_u, new_share
        if change < _CONVERGED:
            break
    if n_attr >= 3:
        m, u, _ = _m_step(distinct, counts, _posterior(m, u, share, distinct), _unblocked(distinct))
    return MatchWeights(tuple(attributes), m, u, share, int(counts.sum()))
