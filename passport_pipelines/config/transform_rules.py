"""Transformation rules of an integration file, as pydantic models.

One rule changes one canonical field with one or more operations, always in this order
(whatever the order of the keys in the file):

    template -> trim -> case / ascii -> regex_replace -> value_map -> date_formats -> default -> unique

``template`` comes first because it builds the value the other operations then clean: a
username ``"{given_name}.{family_name}"`` with ``case: lower, ascii: true`` is lower-cased
and stripped *after* the names are put together. ``only_if_blank`` limits the whole rule to
rows where the field is blank (NULL or spaces). The engine is ``normalize/rules/transformations.py``; the SQL
of each operation is in ``normalize/rules/transform_operations.py``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from passport_pipelines.model import entities
from passport_pipelines.sql import patterns


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RegexReplace(_Strict):
    """Every match of ``pattern`` (RE2 syntax) replaced by ``replacement`` (``\\1`` = group 1)."""

    pattern: str = Field(min_length=1)
    replacement: str = ""
    ignore_case: bool = False

    @model_validator(mode="after")
    def _compiles(self) -> "RegexReplace":
        patterns.check_regex(self.pattern, self.replacement)
        return self


class TransformRule(_Strict):
    """One canonical field and the operations applied to it (see the module docstring for the order)."""

    field: str
    template: str | None = Field(None, description="{column} placeholders; a blank placeholder gives NULL")
    trim: bool = False
    case: Literal["lower", "upper", "title"] | None = None
    ascii: bool = Field(False, description="accents stripped, lower-cased, only a-z 0-9 . _ - kept")
    regex_replace: RegexReplace | None = None
    value_map: dict[str, str | None] | None = Field(None, description="list cells are mapped item by item")
    date_formats: list[str] | None = Field(None, min_length=1, description="strptime formats, parsed to YYYY-MM-DD")
    default: str | None = Field(None, description="where the value is blank after the operations above")
    unique: bool = Field(False, description="colliding values get a numeric suffix 2, 3, ...")
    only_if_blank: bool = Field(False, description="change only rows where the field is blank")

    @field_validator("value_map", mode="before")
    @classmethod
    def _map_scalars(cls, v: object) -> object:
        # YAML reads `0: KG` with an int key; numbers are fine as text, but yes/no/true/false
        # are YAML booleans that would silently become "True" -- make the author quote them.
        if not isinstance(v, dict):
            return v
        out = {}
        for key, value in v.items():
            for item in (key, value):
                if isinstance(item, bool):
                    raise ValueError(f"{item!r} was read as a YAML boolean; quote it (e.g. \"yes\")")
            out[key if isinstance(key, str) else str(key)] = (
                value if value is None or isinstance(value, str) else str(value))
        return out

    @field_validator("template")
    @classmethod
    def _template(cls, v: str | None) -> str | None:
        if v is not None:
            patterns.parse_template(v)  # malformed braces or placeholders, reported at this key
        return v

    @field_validator("default")
    @classmethod
    def _default(cls, v: str | None) -> str | None:
        return None if v is None else patterns.no_nul(v)

    @field_validator("value_map")
    @classmethod
    def _map_text(cls, v: dict[str, str | None] | None) -> dict[str, str | None] | None:
        if v is not None:
            if not v:
                raise ValueError("value_map is empty")
            for text in [*v.keys(), *(x for x in v.values() if x is not None)]:
                patterns.no_nul(text)
        return v

    @field_validator("date_formats")
    @classmethod
    def _formats(cls, v: list[str] | None) -> list[str] | None:
        for fmt in v or ():
            patterns.check_date_format(fmt)
        return v

    @model_validator(mode="after")
    def _operations(self) -> "TransformRule":
        ops = (self.template, self.trim or None, self.case, self.ascii or None, self.regex_replace,
               self.value_map, self.date_formats, self.default, self.unique or None)
        if all(op is None for op in ops):
            raise ValueError(f"rule for {self.field!r} has no operation (template, trim, case, ascii, "
                             "regex_replace, value_map, date_formats, default, unique)")
        if self.ascii and self.case in ("upper", "title"):
            raise ValueError(f"ascii lower-cases the value; it cannot be combined with case: {self.case}")
        return self

    def placeholders(self) -> list[str]:
        """The columns a template names, in order."""
        return [] if self.template is None else patterns.placeholders(self.template)


# Columns no rule may change: where a row came from, its ids, and derived values. Ids that
# point at other records are changed consistently by the SIS id prefix, never one table alone.
NOT_TRANSFORMABLE_REASON = {
    **{c: "is a provenance column (where the row came from)" for c in entities.PROVENANCE_COLUMNS},
    "sourced_id": "is the record's id",
    "content_hash": "is computed from the other columns",
    "extensions": "holds the custom fields as JSON; map them with attribute mapping",
}


def validate_rules(entity: str, rules: list[TransformRule]) -> list[TransformRule]:
    """Check each rule against the entity's canonical columns; errors name the rule as the
    integration file's key paths do (``users[0]`` is the first rule of users).

    A config model calls this from a validator of its ``transforms: dict[entity, list[TransformRule]]``.
    """
    if entity not in entities.CANONICAL_MODELS:
        raise ValueError(f"unknown entity {entity!r} (have: {', '.join(entities.ENTITIES)})")
    columns = entities.columns(entity)
    references = {r.column: r.entity for r in entities.REFERENCES.get(entity, ())}
    booleans = set(entities.boolean_columns(entity))
    errors = []
    for index, rule in enumerate(rules):
        where = f"{entity}[{index}] (field {rule.field!r})"
        if rule.field not in columns:
            errors.append(f"{where}: {entity} has no column {rule.field!r}")
        elif rule.field in NOT_TRANSFORMABLE_REASON or rule.field in references:
            reason = NOT_TRANSFORMABLE_REASON.get(rule.field) or (
                f"is an id of {references[rule.field]} (changed consistently by the SIS id prefix)")
            errors.append(f"{where}: {rule.field} {reason}; transformation rules cannot change it")
        elif rule.field in booleans:
            errors.append(f"{where}: {rule.field} is a true/false column; transformation rules change text")
        unknown = [p for p in rule.placeholders() if p not in columns or p == "content_hash"]
        if unknown:
            errors.append(f"{where}: template names {', '.join('{' + p + '}' for p in unknown)}, "
                          f"not a column of {entity}")
    if errors:
        raise ValueError("; ".join(errors))
    return rules
