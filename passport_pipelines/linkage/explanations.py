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
    """list<string> per pair: the attributes equal after normalization (score 1)."""
    equal = scores >= 1.0
    names = np.broadcast_to(np.asarray(attributes, dtype=object), equal.shape)[equal]
    offsets = np.concatenate([[0], np.cumsum(equal.sum(axis=1))]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(names, pa.string()))


def scores_json(attributes: list[str], scores: np.ndarray) -> pa.Array:
    """JSON text per pair: {"attribute": score rounded to 3 decimals, ...}."""
    parts = []
    for k, name in enumerate(attributes):
        number = pc.cast(pc.round(pa.array(scores[:, k], pa.float64()), 3), pa.string())
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
