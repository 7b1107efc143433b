"""Reconciliation settings of an integration: the domains of uniqueness that say when two
person records are the same person, and the attributes that tell people apart; and when two records
of an org, academic session, course or class from different sources are one (``RECORD_ENTITIES``).

A domain names a set of attributes, how they are compared (``exact`` after normalization, or
``fuzzy`` with a similarity threshold) and what happens to a pair it finds (``unattended``: merged
automatically; ``manual``: put into the review queue). Domains are tried in the order given; a pair
belongs to the first domain it satisfies. ``distinguishing`` attributes (birth date and state id by
default) keep twins, siblings sharing a guardian's e-mail and recycled ids apart: two records that
both carry such an attribute with different values are never merged unattended.

Orgs, academic sessions, courses and classes match ``exact`` only, on their own canonical attributes:
a reference (a course's ``org_sourced_id``, a class's ``course_sourced_id``...) is compared as the
golden record it points at, so "title + school" finds one course whichever source's id the school has.
By default none of them is searched.

The engine that applies these settings to people is ``passport_pipelines.reconciliation.linkage``; to the other
entities, ``reconciliation/record_duplicates.py``.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from passport_pipelines.model import entities

# The canonical person attributes a domain can name; any other well-formed name is a custom
# attribute (an attribute mapped by the integration's rules, see config/rules.py).
PERSON_ATTRIBUTES: tuple[str, ...] = (
    "given_name", "family_name", "middle_name", "preferred_given_name", "email", "username", "identifier",
    "state_id", "birth_date", "sex", "phone", "sms", "role", "grades",
)
# Entities duplicates are searched in: people, and the records that organize them, whose duplicates
# come from two sources carrying the same school, course or class under their own ids.
RECORD_ENTITIES: tuple[str, ...] = ("orgs", "academic_sessions", "courses", "classes")  # in reference order
SUPPORTED_ENTITIES: tuple[str, ...] = ("users", *RECORD_ENTITIES)
# Columns of the engine's input that identify a record rather than describe a person.
RESERVED_COLUMNS: tuple[str, ...] = ("record_key", "source")

_ATTRIBUTE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,63}")
_DOMAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_attribute(name: str) -> None:
    if name in RESERVED_COLUMNS:
        raise ValueError(f"{name!r} identifies a record, it is not a person attribute")
    if not _ATTRIBUTE_NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not an attribute name: use a person attribute "
                         f"({', '.join(PERSON_ATTRIBUTES)}) or a custom attribute name (letters, digits, _ and .)")


def _check_unique(names: list[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{what} {name!r} is given twice")
        seen.add(name)


class MatchDomain(_Strict):
    """One domain of uniqueness: records whose ``attributes`` match are the same person."""

    name: str = Field(description="how the domain is named in pair explanations and counts")
    attributes: list[str] = Field(description="person attributes compared (all non-blank on both records, unless "
                                              "missing: unknown)")
    match: Literal["exact", "fuzzy"] = Field("exact", description="exact: equal after normalization; fuzzy: mean "
                                                                  "similarity of the attributes >= threshold")
    threshold: float | None = Field(None, description="fuzzy only: 0 < threshold <= 1")
    resolution: Literal["unattended", "manual"] = Field("unattended", description="unattended: merged "
                                                        "automatically; manual: sent to the review queue")
    missing: Literal["required", "unknown"] = Field(
        "required", description="fuzzy only. required: every attribute must be non-blank on both records; "
                                "unknown: a blank attribute neither agrees nor disagrees (at least half of the "
                                "attributes, rounded up, must be non-blank on both)")
    weights: Literal["equal", "learned"] = Field(
        "equal", description="fuzzy only. equal: the score is the mean similarity; learned: match weights are "
                             "learned from the district's own records and the score is the probability that the "
                             "two records are one person (the threshold is that probability)")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _DOMAIN_NAME.fullmatch(v):
            raise ValueError("a domain name is 1-64 letters, digits, _, . and -, starting with a letter or digit")
        return v

    @field_validator("attributes")
    @classmethod
    def _attributes(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("a domain needs at least one attribute")
        for name in v:
            _check_attribute(name)
        _check_unique(v, "attribute")
        return v

    @model_validator(mode="after")
    def _threshold(self) -> "MatchDomain":
        if self.match == "exact":
            if self.threshold is not None:
                raise ValueError(f"domain {self.name}: threshold applies to match: fuzzy only (an exact domain "
                                 "matches equal values after normalization)")
        elif self.threshold is None:
            raise ValueError(f"domain {self.name}: match: fuzzy needs a threshold, 0 < threshold <= 1 (e.g. 0.9)")
        elif not 0 < self.threshold <= 1:
            raise ValueError(f"domain {self.name}: threshold must be > 0 and <= 1, got {self.threshold}")
        if self.match == "exact" and (self.missing != "required" or self.weights != "equal"):
            raise ValueError(f"domain {self.name}: missing and weights apply to match: fuzzy only (an exact domain "
                             "needs every attribute, equal on both records)")
        if self.weights == "learned" and len(self.attributes) < 2:
            raise ValueError(f"domain {self.name}: weights: learned needs at least two attributes to weigh")
        return self

    @property
    def min_compared(self) -> int:
        """How many of the attributes must be non-blank on both records of a pair."""
        if self.missing == "required":
            return len(self.attributes)
        return max(1, -(-len(self.attributes) // 2))


# The default for people: first name + last name + e-mail.
DEFAULT_PERSON_DOMAINS: tuple[MatchDomain, ...] = (
    MatchDomain(name="name_and_email", attributes=["given_name", "family_name", "email"]),
)


def record_attributes(entity: str) -> tuple[str, ...]:
    """What a domain of ``entity`` (an org, session, course or class) may compare: its canonical content."""
    return tuple(c for c in entities.content_columns(entity) if c != "extensions")


def _check_record_domains(entity: str, domains: list[MatchDomain]) -> None:
    known = record_attributes(entity)
    for d in domains:
        if d.match != "exact":
            raise ValueError(f"domains.{entity}: domain {d.name}: match: fuzzy is for people; {entity} match exactly "
                             "on the attributes given")
        unknown = [a for a in d.attributes if a not in known]
        if unknown:
            raise ValueError(f"domains.{entity}: domain {d.name}: {', '.join(map(repr, unknown))} "
                             f"{'is not an attribute' if len(unknown) == 1 else 'are not attributes'} of {entity} "
                             f"(use {', '.join(known)})")


class Reconciliation(_Strict):
    """Domains of uniqueness per entity, in priority order, and the distinguishing attributes."""

    domains: dict[str, list[MatchDomain]] = Field(
        default_factory=lambda: {"users": list(DEFAULT_PERSON_DOMAINS)},
        description="entity -> ordered domains; an empty list turns duplicate search off for the entity, and an "
                    "entity not given keeps its default (people: name_and_email; the others: none)")
    distinguishing: list[str] = Field(
        default_factory=lambda: ["birth_date", "state_id"],
        description="records that both have one of these and differ on it are never merged unattended")

    @field_validator("domains")
    @classmethod
    def _domains(cls, v: dict[str, list[MatchDomain]]) -> dict[str, list[MatchDomain]]:
        for entity, domains in v.items():
            if entity not in SUPPORTED_ENTITIES:
                raise ValueError(f"domains: duplicates are searched among {', '.join(SUPPORTED_ENTITIES)} only, "
                                 f"not {entity!r}")
            _check_unique([d.name for d in domains], f"domains.{entity}: domain name")
            if entity in RECORD_ENTITIES:
                _check_record_domains(entity, domains)
        # Configuring courses does not turn the search for duplicate people off.
        return {"users": list(DEFAULT_PERSON_DOMAINS), **v}

    @field_validator("distinguishing")
    @classmethod
    def _distinguishing(cls, v: list[str]) -> list[str]:
        for name in v:
            _check_attribute(name)
        _check_unique(v, "distinguishing attribute")
        return v

    def domains_for(self, entity: str) -> list[MatchDomain]:
        """The ordered domains of an entity (none when duplicates are not searched in it)."""
        return list(self.domains.get(entity, ()))
