"""Integration rules of one source: what a district configures between "connected" and
"in production". Applied, in this order, to the source's canonical tables after its SQL models:

1. ``attributes``: per entity, canonical fields or named custom attributes taken from another
   field or from an extension field (OneRoster ``metadata.*``, PowerSchool extension tables).
2. ``transforms``: declarative per-field rules (``config/transform_rules.py``).
3. ``schools``: source schools mapped to the district's schools; data of unmapped schools left out.
4. ``filters``: ready-made templates and custom conditions per entity type.
5. ``requirements``: per entity type and field, ``report_if_missing`` or ``skip_if_missing``.
6. ``sis_id_prefix``: prepended to every id the source gives (not to district school ids).

Rows left out by 3-5 take what depends on them along (a student's enrollments, a class's
enrollments); every rule's count is in the run's metadata.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from passport_pipelines.config.plain_text import refuse_control_characters
from passport_pipelines.config.transform_rules import TransformRule, validate_rules
from passport_pipelines.model import entities

# The seven entity types a district filters by, and the canonical table (and roles) each means.
PERSON_ROLES: dict[str, tuple[str, ...]] = {
    "student": ("student",),
    "teacher": ("teacher", "aide", "proctor", "counselor"),
    "admin": ("administrator", "districtAdministrator", "siteAdministrator", "principal", "systemAdministrator"),
    "contact": ("guardian", "parent", "relative"),
}
ENTITY_TYPES: dict[str, str] = {"student": "users", "teacher": "users", "admin": "users", "contact": "users",
                                "course": "courses", "class": "classes", "calendar": "academic_sessions"}
EntityType = Literal["student", "contact", "teacher", "course", "class", "calendar", "admin"]
GRADE_ORDER = ("IT", "PR", "PK", "TK", "KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12",
               "13", "PS", "UG", "Other")
GRADE_ENTITIES = {"student", "course", "class"}
SCHOOL_ENTITIES = {"student", "teacher", "admin", "contact", "course", "class"}
PERSON_FIELDS = ("username", "email", "given_name", "family_name")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def target_of(key: str) -> tuple[str, tuple[str, ...] | None]:
    """An entity type or a canonical entity name -> (canonical table, roles it is limited to)."""
    if key in ENTITY_TYPES:
        return ENTITY_TYPES[key], PERSON_ROLES.get(key)
    if key in entities.ENTITIES:
        return key, None
    raise ValueError(f"{key!r} is neither an entity type ({', '.join(ENTITY_TYPES)}) nor a canonical table "
                     f"({', '.join(entities.ENTITIES)})")


def _check_field(entity: str, name: str) -> None:
    if name not in entities.columns(entity):
        raise ValueError(f"{name!r} is not a field of {entity} (fields: {', '.join(entities.content_columns(entity))})")


class Condition(_Strict):
    field: str
    op: Literal["eq", "ne", "in", "not_in", "contains", "starts_with", "ends_with", "matches", "is_blank",
                "not_blank", "gt", "ge", "lt", "le"]
    value: Union[str, int, float, bool, list[str], None] = None

    @model_validator(mode="after")
    def _value(self) -> "Condition":
        needs_list = self.op in ("in", "not_in")
        if self.op in ("is_blank", "not_blank"):
            if self.value is not None:
                raise ValueError(f"op {self.op} takes no value")
        elif needs_list != isinstance(self.value, list):
            raise ValueError(f"op {self.op} takes {'a list of values' if needs_list else 'one value'}")
        if self.op == "matches":
            try:
                re.compile(str(self.value))
            except re.error as exc:
                raise ValueError(f"value is not a valid regular expression: {exc}") from None
        return self


class ConditionGroup(_Strict):
    """``all`` (and) or ``any`` (or) of conditions, nestable."""

    all: list[Union[Condition, "ConditionGroup"]] | None = None
    any: list[Union[Condition, "ConditionGroup"]] | None = None

    @model_validator(mode="after")
    def _one(self) -> "ConditionGroup":
        if (self.all is None) == (self.any is None):
            raise ValueError("give exactly one of all: [...] or any: [...]")
        return self

    def fields(self) -> set[str]:
        out = set()
        for c in self.all or self.any or []:
            out |= c.fields() if isinstance(c, ConditionGroup) else {c.field}
        return out


class FilterRule(_Strict):
    """A ready-made ``template`` or a custom ``keep_if`` / ``exclude_if`` condition."""

    name: str | None = Field(None, description="how the rule is named in the run's metadata")
    template: Literal["active_only", "grade_range", "exclude_schools", "exclude_test_accounts",
                      "current_terms_only"] | None = None
    from_grade: str | None = Field(None, alias="from")
    to_grade: str | None = Field(None, alias="to")
    schools: list[str] | None = None
    pattern: str | None = None
    as_of: date | None = Field(None, description="current_terms_only: the day that counts (default: today, within "
                                                 "the synced school year)")
    keep_if: ConditionGroup | None = None
    exclude_if: ConditionGroup | None = None

    @model_validator(mode="after")
    def _shape(self) -> "FilterRule":
        given = [k for k in ("template", "keep_if", "exclude_if") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a filter is one of template: ..., keep_if: {...} or exclude_if: {...}")
        t = self.template
        if t == "grade_range":
            for g in (self.from_grade, self.to_grade):
                if g not in GRADE_ORDER:
                    raise ValueError(f"grade_range needs from and to, CEDS grades ({', '.join(GRADE_ORDER)})")
            if GRADE_ORDER.index(self.from_grade) > GRADE_ORDER.index(self.to_grade):
                raise ValueError("grade_range: from comes after to")
        if t == "exclude_schools" and not self.schools:
            raise ValueError("exclude_schools needs schools: [school ids]")
        if t == "exclude_test_accounts":
            if not self.pattern:
                raise ValueError("exclude_test_accounts needs pattern: a regular expression")
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern is not a valid regular expression: {exc}") from None
        return self

    @property
    def label(self) -> str:
        return self.name or self.template or ("keep_if" if self.keep_if else "exclude_if")


class SchoolsMapping(_Strict):
    """``auto`` maps a source school to the district school with the same identifier (e.g. the
    NCES id); ``map`` names them explicitly (source school id -> district school id)."""

    mode: Literal["auto", "explicit"] = "auto"
    map: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _explicit(self) -> "SchoolsMapping":
        if self.mode == "explicit" and not self.map:
            raise ValueError("mode explicit needs map: {source school id: district school id}")
        return self


EXTENSION_PREFIXES = ("extension:", "metadata.")


def extension_key(expr: str) -> str | None:
    for prefix in EXTENSION_PREFIXES:
        if expr.startswith(prefix) and len(expr) > len(prefix):
            return expr[len(prefix):]
    return None


RULE_KEYS = ("sis_id_prefix", "schools", "attributes", "transforms", "filters", "requirements")


class SourceRules(_Strict):
    """The rules every source may carry, next to its connection settings."""

    sis_id_prefix: str | None = Field(None, description="prepended to every id of this source, e.g. 'ps-'")
    schools: Union[Literal["auto"], SchoolsMapping, None] = None
    attributes: dict[str, dict[str, str]] = Field(default_factory=dict)
    transforms: dict[str, list[TransformRule]] = Field(default_factory=dict)
    filters: dict[EntityType, list[FilterRule]] = Field(default_factory=dict)
    requirements: dict[str, dict[str, Literal["report_if_missing", "skip_if_missing"]]] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _plain_text(cls, data: object) -> object:
        # Every string a rule carries ends up in SQL, a regex or a delivered cell: checked before
        # anything else, so the error names the key rather than a later rule's confusion.
        if isinstance(data, dict):
            refuse_control_characters({k: data[k] for k in RULE_KEYS if k in data})
        return data

    @field_validator("sis_id_prefix")
    @classmethod
    def _prefix(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[0-9A-Za-z./@_-]{1,32}", v):
            raise ValueError("an id prefix is 1-32 of the characters OneRoster allows in ids: 0-9 A-Z a-z . / @ _ -")
        return v

    @field_validator("attributes")
    @classmethod
    def _attributes(cls, v: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for entity, fields in v.items():
            if entity not in entities.ENTITIES:
                raise ValueError(f"attributes: {entity!r} is not a canonical table ({', '.join(entities.ENTITIES)})")
            for target, expr in fields.items():
                if target in entities.PROVENANCE_COLUMNS or target == "extensions":
                    raise ValueError(f"attributes.{entity}.{target}: ids and provenance columns cannot be mapped")
                if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]{0,63}", target):
                    raise ValueError(f"attributes.{entity}.{target}: a custom attribute name is letters, digits, _ and .")
                if extension_key(expr) is None:
                    try:
                        _check_field(entity, expr)
                    except ValueError as exc:
                        raise ValueError(f"attributes.{entity}.{target}: {exc}; or name an extension field as "
                                         "extension:<name> (metadata.<name> for OneRoster CSV columns)") from None
        return v

    @field_validator("transforms")
    @classmethod
    def _transforms(cls, v: dict[str, list[TransformRule]]) -> dict[str, list[TransformRule]]:
        for entity, rules in v.items():
            if entity not in entities.ENTITIES:
                raise ValueError(f"transforms: {entity!r} is not a canonical table ({', '.join(entities.ENTITIES)})")
            validate_rules(entity, rules)
        return v

    def _check_rule_field(self, entity: str, name: str) -> None:
        """A field a filter or a requirement reads: a canonical column, a custom attribute the
        mapping makes (``attributes.<entity>``), or an extension field named as ``extension:<name>``."""
        customs = set(self.attributes.get(entity, {})) - set(entities.columns(entity))
        if name in customs or extension_key(name) is not None:
            return
        try:
            _check_field(entity, name)
        except ValueError as exc:
            named = f"; custom attributes of {entity}: {', '.join(sorted(customs))}" if customs else ""
            raise ValueError(f"{exc}{named}; or read an extension field as extension:<name>") from None

    @model_validator(mode="after")
    def _requirement_fields(self) -> "SourceRules":
        for key, fields in self.requirements.items():
            entity, _ = target_of(key)
            for name in fields:
                try:
                    self._check_rule_field(entity, name)
                except ValueError as exc:
                    raise ValueError(f"requirements.{key}.{name}: {exc}") from None
        return self

    @model_validator(mode="after")
    def _filter_fields(self) -> "SourceRules":
        for kind, rules in self.filters.items():
            entity = ENTITY_TYPES[kind]
            for rule in rules:
                if rule.template == "grade_range" and kind not in GRADE_ENTITIES:
                    raise ValueError(f"filters.{kind}: grade_range applies to student, course and class")
                if rule.template == "exclude_schools" and kind not in SCHOOL_ENTITIES:
                    raise ValueError(f"filters.{kind}: exclude_schools does not apply to {kind}")
                if rule.template == "exclude_test_accounts" and kind not in PERSON_ROLES:
                    raise ValueError(f"filters.{kind}: exclude_test_accounts applies to people")
                if rule.template == "current_terms_only" and kind not in ("calendar", "class"):
                    raise ValueError(f"filters.{kind}: current_terms_only applies to calendar and class")
                for group in (rule.keep_if, rule.exclude_if):
                    for name in sorted(group.fields() if group else ()):
                        try:
                            self._check_rule_field(entity, name)
                        except ValueError as exc:
                            raise ValueError(f"filters.{kind} ({rule.label}): {exc}") from None
        return self

    def has_rules(self) -> bool:
        return bool(self.sis_id_prefix or self.schools or self.attributes or self.transforms or self.filters
                    or self.requirements)
