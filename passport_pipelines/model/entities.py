"""The canonical tables by name, with how their rows refer to each other."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pandera.pandas as pa

from passport_pipelines.model import canonical

CANONICAL_MODELS: dict[str, type[pa.DataFrameModel]] = {
    "orgs": canonical.Orgs,
    "academic_sessions": canonical.AcademicSessions,
    "courses": canonical.Courses,
    "classes": canonical.Classes,
    "users": canonical.Users,
    "roles": canonical.Roles,
    "enrollments": canonical.Enrollments,
    "demographics": canonical.Demographics,
    "agents": canonical.Agents,
}

ENTITIES: tuple[str, ...] = tuple(CANONICAL_MODELS)

# Columns that say where a row came from rather than what it is: excluded from content hashes.
PROVENANCE_COLUMNS = ("sourced_id", "source", "district", "school_year", "status", "date_last_modified", "content_hash")


@dataclass(frozen=True)
class Reference:
    column: str
    entity: str
    is_list: bool = False


# Which canonical columns hold sourced ids of which entity. Used to cascade deletions and to
# translate source ids into golden ids on delivery.
REFERENCES: dict[str, tuple[Reference, ...]] = {
    "orgs": (Reference("parent_sourced_id", "orgs"),),
    "academic_sessions": (Reference("parent_sourced_id", "academic_sessions"),),
    "courses": (
        Reference("org_sourced_id", "orgs"),
        Reference("school_year_sourced_id", "academic_sessions"),
    ),
    "classes": (
        Reference("course_sourced_id", "courses"),
        Reference("school_sourced_id", "orgs"),
        Reference("term_sourced_ids", "academic_sessions", is_list=True),
    ),
    "users": (
        Reference("org_sourced_ids", "orgs", is_list=True),
    ),
    "roles": (Reference("user_sourced_id", "users"), Reference("org_sourced_id", "orgs")),
    "enrollments": (
        Reference("class_sourced_id", "classes"),
        Reference("school_sourced_id", "orgs"),
        Reference("user_sourced_id", "users"),
    ),
    "demographics": (Reference("sourced_id", "users"),),
    "agents": (Reference("user_sourced_id", "users"), Reference("agent_sourced_id", "users")),
}

# Deleting a record of the key entity deletes (ends) the dependent records that point at it.
CASCADES: dict[str, tuple[tuple[str, str], ...]] = {
    "users": (("enrollments", "user_sourced_id"), ("roles", "user_sourced_id"), ("demographics", "sourced_id"),
              ("agents", "user_sourced_id"), ("agents", "agent_sourced_id")),
    "classes": (("enrollments", "class_sourced_id"),),
}


@cache
def columns(entity: str) -> tuple[str, ...]:
    """The canonical columns of an entity, in model order."""
    return tuple(CANONICAL_MODELS[entity].to_schema().columns)


@cache
def content_columns(entity: str) -> tuple[str, ...]:
    """The columns whose values make up a record's content (and its hash)."""
    return tuple(c for c in columns(entity) if c not in PROVENANCE_COLUMNS)


@cache
def boolean_columns(entity: str) -> tuple[str, ...]:
    schema = CANONICAL_MODELS[entity].to_schema()
    return tuple(name for name, col in schema.columns.items() if str(col.dtype) == "boolean")
