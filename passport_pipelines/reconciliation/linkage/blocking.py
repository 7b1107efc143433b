"""Blocking keys: which record pairs are worth comparing at all.

Each domain contributes passes; a pass is a tuple of features (an attribute's full normalized value,
or a coarse form of it) and pairs every two records whose features are all equal and non-blank. The
candidate pairs are the union over all passes of all domains.

- ``exact`` domain: one pass, the whole normalized key. Nothing else can satisfy it.
- ``fuzzy`` domain over attributes A (a pair may be similar rather than equal on any of them):
  * leave-one-out: for each attribute, the full values of all the others, so an error of any size in
    one attribute is still found. With two attributes the left-out one keeps its coarse form (a single
    full name alone would make blocks of thousands). When the domain cannot match with the left-out
    attribute scoring 0 ((|A|-1)/|A| < threshold), only values that can score above 0 need pairing:
    a date then keeps its year or its month and day (two passes: one mistyped digit or a day/month
    swap leaves one of them intact), a category its full value;
  * leave-two-out, with four attributes or more: the full values of all but two, for errors of any
    size in two attributes;
  * all coarse: the coarse form of every attribute, for small errors in several attributes at once;
  * name pair: when A holds given_name and family_name, the two names as an unordered pair (plus the
    others in full), for records with given and family name swapped;
  * with a single attribute: its coarse form, and its last three characters (an error at the start).
- ``fuzzy`` domain with ``missing: unknown`` (any attribute may be blank on a side): with three
  attributes or more, every two of them in full (a duplicate is found when any two attributes are
  intact, whatever is blank or mistyped in the others), and the name pair alone; with one or two, the
  passes above plus each attribute alone in full.

Coarse forms: names, codes and text their first three characters; dates the year; e-mails the local
part; categories the value itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from passport_pipelines.config.reconciliation import MatchDomain
from passport_pipelines.reconciliation.linkage.attribute_kinds import kind_of
from passport_pipelines.reconciliation.linkage.encoding import BLANK, EncodedAttribute, shared_vocabulary
from passport_pipelines.reconciliation.linkage.records import PreparedRecords
from passport_pipelines.reconciliation.linkage.similarity import TOLERANCE

Form = Literal["full", "coarse", "month_day", "suffix", "name_pair"]
PREFIX_LENGTH = 3

NAME_PAIR = ("given_name", "family_name")


@dataclass(frozen=True)
class Feature:
    form: Form
    attributes: tuple[str, ...]  # one attribute, or the two names of a name_pair


@dataclass(frozen=True)
class BlockingPass:
    features: tuple[Feature, ...]

    def __post_init__(self) -> None:
        # One order of features, so that equal passes of different domains compare equal.
        object.__setattr__(self, "features", tuple(sorted(set(self.features), key=lambda f: (f.attributes, f.form))))

    def describe(self) -> str:
        return " + ".join(f"{f.form}({'/'.join(f.attributes)})" for f in self.features)


def _full(*attributes: str) -> tuple[Feature, ...]:
    return tuple(Feature("full", (a,)) for a in attributes)


def _left_out(domain: MatchDomain, attribute: str, others: tuple[Feature, ...]) -> list[BlockingPass]:
    """Passes that find pairs differing in ``attribute`` only (see the module docstring)."""
    m = len(domain.attributes)
    zero_can_match = (m - 1) / m >= domain.threshold - TOLERANCE
    kind = kind_of(attribute)
    if kind == "date" and not zero_can_match:
        return [BlockingPass(others + (Feature("coarse", (attribute,)),)),
                BlockingPass(others + (Feature("month_day", (attribute,)),))]
    if kind == "category" and not zero_can_match:
        return [BlockingPass(others + (Feature("full", (attribute,)),))]
    return [BlockingPass(others + ((Feature("coarse", (attribute,)),) if m == 2 else ()))]


def passes_for(domain: MatchDomain) -> list[BlockingPass]:
    """The blocking passes of one domain (see the module docstring)."""
    attrs = tuple(domain.attributes)
    if domain.match == "exact":
        return [BlockingPass(_full(*attrs))]
    if len(attrs) == 1:
        (a,) = attrs
        out = [BlockingPass((Feature("coarse", (a,)),))]
        if kind_of(a) in ("name", "code", "text"):
            out.append(BlockingPass((Feature("suffix", (a,)),)))
        return out
    if domain.missing == "unknown":
        return _tolerant_passes(domain)
    return _complete_passes(domain)


def _complete_passes(domain: MatchDomain) -> list[BlockingPass]:
    """Passes of a fuzzy domain that needs every attribute (see the module docstring)."""
    attrs = tuple(domain.attributes)
    out = []
    for left_out in attrs:
        out += _left_out(domain, left_out, _full(*(a for a in attrs if a != left_out)))
    if len(attrs) >= 4:
        out += [BlockingPass(_full(*(a for a in attrs if a not in pair))) for pair in combinations(attrs, 2)]
    out.append(BlockingPass(tuple(Feature("coarse", (a,)) for a in attrs)))
    if set(NAME_PAIR) <= set(attrs):
        out.append(BlockingPass((Feature("name_pair", NAME_PAIR),) + _full(*(a for a in attrs if a not in NAME_PAIR))))
    return out


def _tolerant_passes(domain: MatchDomain) -> list[BlockingPass]:
    """Passes of a fuzzy domain where blanks are unknown (see the module docstring)."""
    attrs = tuple(domain.attributes)
    if len(attrs) <= 2:
        complete = _complete_passes(domain) if len(attrs) == 2 else []
        return complete + [BlockingPass(_full(a)) for a in attrs]
    out = [BlockingPass(_full(a, b)) for a, b in combinations(attrs, 2)]
    if set(NAME_PAIR) <= set(attrs):
        out.append(BlockingPass((Feature("name_pair", NAME_PAIR),)))
    return out


def blocking_passes(domains: list[MatchDomain]) -> list[BlockingPass]:
    """The union of all domains' passes, each once, in domain order. (A pass is not dropped for
    being a narrower form of another: the wider one may skip an oversized block the narrow one needs.)"""
    return list(dict.fromkeys(p for d in domains for p in passes_for(d)))


def _coarse(attribute: EncodedAttribute) -> EncodedAttribute:
    kind = attribute.kind
    if kind == "category":
        return attribute
    if kind == "date":
        return attribute.derived("year", lambda u: pc.utf8_slice_codeunits(u, 0, 4))
    if kind == "email":
        return attribute.derived("local_part", lambda u: pc.list_element(pc.split_pattern(u, "@", max_splits=1), 0))
    return attribute.derived("prefix", lambda u: pc.utf8_slice_codeunits(u, 0, PREFIX_LENGTH))


def _suffix(attribute: EncodedAttribute) -> EncodedAttribute:
    return attribute.derived("suffix", lambda u: pc.utf8_slice_codeunits(u, -PREFIX_LENGTH, 2**31 - 1))


def _name_pair(records: PreparedRecords, given: str, family: str) -> np.ndarray:
    """Codes of the unordered pair {given, family}, both names coded in one shared vocabulary."""
    g, f = shared_vocabulary(records.attributes[given], records.attributes[family])
    return _combine([np.minimum(g.codes, f.codes), np.maximum(g.codes, f.codes)],
                    (g.codes == BLANK) | (f.codes == BLANK))


def _combine(codes: list[np.ndarray], blank: np.ndarray | None = None) -> np.ndarray:
    """One code per distinct tuple of codes; BLANK where any part is blank."""
    combined = codes[0].copy()
    blank = (combined == BLANK) if blank is None else blank.copy()
    for part in codes[1:]:
        blank |= part == BLANK
        # Refactorize after each step so the next product stays far below 2**63.
        combined = pd.factorize(combined * (int(part.max(initial=0)) + 1) + part)[0]
    combined = combined.astype(np.int64, copy=False)
    combined[blank] = BLANK
    return combined


def feature_codes(records: PreparedRecords, feature: Feature) -> np.ndarray:
    if feature.form == "name_pair":
        return _name_pair(records, *feature.attributes)
    attribute = records.attributes[feature.attributes[0]]
    if feature.form == "coarse":
        attribute = _coarse(attribute)
    elif feature.form == "month_day":
        attribute = attribute.derived("month_day", lambda u: pc.utf8_slice_codeunits(u, 4, 8))
    elif feature.form == "suffix":
        attribute = _suffix(attribute)
    return attribute.codes


def key_codes(records: PreparedRecords, blocking_pass: BlockingPass) -> np.ndarray:
    """The blocking key of every record for one pass (BLANK: the record is not blocked in it)."""
    return _combine([feature_codes(records, f) for f in blocking_pass.features])
