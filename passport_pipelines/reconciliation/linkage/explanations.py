"""What a pair's explanation says: which domain found it, which attributes agreed, the score of each
attribute, and why it was merged or held for review. Attribute names and numbers only: values are
student data and never appear in an explanation.

Columns are built with pyarrow kernels over all pairs of a domain at once.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from passport_pipelines.config.reconciliation import MatchDomain

SWAPPED = "given_name and family_name swapped"


def agreed(attributes: list[str], scores: np.ndarray) -> pa.Array:
    """list<string> per pair: the attributes equal after normalization (score 1); a blank agrees with
    nothing (its score is NaN)."""
    with np.errstate(invalid="ignore"):
        equal = scores >= 1.0
    names = np.broadcast_to(np.asarray(attributes, dtype=object), equal.shape)[equal]
    offsets = np.concatenate([[0], np.cumsum(equal.sum(axis=1))]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(names, pa.string()))


def _number(values: np.ndarray, decimals: int) -> pa.Array:
    """Numbers as JSON text; NaN (an attribute blank on a side: unknown) as null."""
    text = pc.cast(pc.round(pa.array(values, pa.float64(), from_pandas=True), decimals), pa.string())
    return pc.fill_null(text, "null")


def scores_json(attributes: list[str], scores: np.ndarray, weights: np.ndarray | None = None) -> pa.Array:
    """JSON text per pair: {"attribute": similarity rounded to 3 decimals, ...}; null for an attribute
    blank on either record. With learned weights: {"attribute": {"similarity": s, "weight": w}, ...},
    w the attribute's match weight (log2 m/u, 2 decimals; 0 when unknown)."""
    parts = []
    for k, name in enumerate(attributes):
        number = _number(scores[:, k], 3)
        if weights is not None:
            number = pc.binary_join_element_wise('{"similarity": ', number, ', "weight": ',
                                                 _number(weights[:, k], 2), "}", "")
        parts.append(pc.binary_join_element_wise(f"{json.dumps(name)}: ", number, ""))
    if not parts:
        return pa.array([], pa.string())
    return pc.binary_join_element_wise("{", pc.binary_join_element_wise(*parts, ", "), "}", "")


def domain_reason(domain: MatchDomain) -> str:
    """Why a pair of this domain is merged (unattended) or queued (manual)."""
    return f"domain {domain.name} {domain.resolution}"


def reasons(domain: MatchDomain, guard: np.ndarray, names_swapped: np.ndarray) -> np.ndarray:
    """Per pair: the guard's reason when one holds the pair back, else the domain's; a manual domain
    names itself and the guard; swapped names are said."""
    base = np.full(len(guard), domain_reason(domain), dtype=object)
    base[names_swapped] = f"{domain_reason(domain)}, {SWAPPED}"
    held = pd.notna(guard).astype(bool)
    if domain.resolution == "manual":
        out = base.copy()
        out[held] = base[held] + "; " + guard[held]
        return out
    out = base.copy()
    out[held] = guard[held]
    return out
