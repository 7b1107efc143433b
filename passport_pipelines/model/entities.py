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
    # Gradebook and resources: imported from what a source carries, delivered only where asked.
    "categories": canonical.Categories,
    "line_items": canonical.LineItems,
    "results": canonical.Results,
    "score_scales": canonical.ScoreScales,
    "line_item_score_scales": canonical.LineItemScoreScales,
    "result_score_scales": canonical.ResultScoreScales,
    "line_item_learning_objective_ids": canonical.LineItemLearningObjectiveIds,
    "result_learning_objective_ids": canonical.ResultLearningObjectiveIds,
    "resources": canonical.Resources,
    "class_resources": canonical.ClassResources,
    "course_resources": canonical.CourseResources,
    "user_resources": canonical.UserResources,
}

ENTITIES: tuple[str, ...] = tuple(CANONICAL_MODELS)
GRADEBOOK_ENTITIES: tuple[str, ...] = ENTITIES[ENTITIES.index("categories"):]
ROSTER_ENTITIES: tuple[str, ...] = ENTITIES[:ENTITIES.index("categories")]

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
    "line_items": (
        Reference("class_sourced_id", "classes"),
        Reference("school_sourced_id", "orgs"),
        Reference("category_sourced_id", "categories"),
        Reference("grading_period_sourced_id", "academic_sessions"),
    ),
    "results": (
        Reference("line_item_sourced_id", "line_items"),
        Reference("student_sourced_id", "users"),
        Reference("class_sourced_id", "classes"),
    ),
    "score_scales": (
        Reference("org_sourced_id", "orgs"),
        Reference("course_sourced_id", "courses"),
        Reference("class_sourced_id", "classes"),
    ),
    "line_item_score_scales": (Reference("line_item_sourced_id", "line_items"),
                               Reference("score_scale_sourced_id", "score_scales")),
    "result_score_scales": (Reference("result_sourced_id", "results"),
                            Reference("score_scale_sourced_id", "score_scales")),
    "line_item_learning_objective_ids": (Reference("line_item_sourced_id", "line_items"),),
    "result_learning_objective_ids": (Reference("result_sourced_id", "results"),),
    "class_resources": (Reference("class_sourced_id", "classes"), Reference("resource_sourced_id", "resources")),
    "course_resources": (Reference("course_sourced_id", "courses"), Reference("resource_sourced_id", "resources")),
    "user_resources": (
        Reference("user_sourced_id", "users"),
        Reference("resource_sourced_id", "resources"),
        Reference("org_sourced_id", "orgs"),
        Reference("class_sourced_id", "classes"),
    ),
}

# Deleting a record of the key entity deletes (ends) the dependent records that point at it. In this
# order: a line item a class's deletion ends, ends its results in turn.
CASCADES: dict[str, tuple[tuple[str, str], ...]] = {
    "users": (("enrollments", "user_sourced_id"), ("roles", "user_sourced_id"), ("demographics", "sourced_id"),
              ("agents", "user_sourced_id"), ("agents", "agent_sourced_id"), ("results", "student_sourced_id"),
              ("user_resources", "user_sourced_id")),
    "classes": (("enrollments", "class_sourced_id"), ("line_items", "class_sourced_id"),
                ("class_resources", "class_sourced_id")),
    "line_items": (("results", "line_item_sourced_id"), ("line_item_score_scales", "line_item_sourced_id"),
                   ("line_item_learning_objective_ids", "line_item_sourced_id")),
    "results": (("result_score_scales", "result_sourced_id"), ("result_learning_objective_ids", "result_sourced_id")),
    "resources": (("class_resources", "resource_sourced_id"), ("course_resources", "resource_sourced_id"),
                  ("user_resources", "resource_sourced_id")),
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
