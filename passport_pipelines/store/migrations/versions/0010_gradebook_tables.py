"""Gradebook and resources: one golden table per canonical entity of the OneRoster gradebook and
resources files (categories, line items, results, score scales and their links, learning objective
ids, resources and the classes, courses and users they are given to).

Revision ID: 0010
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0007"
branch_labels = None
depends_on = None

# The canonical columns as they were when this migration was written (besides the key).
GOLDEN_COLUMNS = {
    "categories": ["status", "date_last_modified", "extensions", "content_hash", "title", "weight"],
    "line_items": ["status", "date_last_modified", "extensions", "content_hash", "title", "description",
                   "assign_date", "due_date", "class_sourced_id", "school_sourced_id", "category_sourced_id",
                   "grading_period_sourced_id", "result_value_min", "result_value_max"],
    "results": ["status", "date_last_modified", "extensions", "content_hash", "line_item_sourced_id",
                "student_sourced_id", "class_sourced_id", "score_status", "score", "text_score", "score_date",
                "comment", "in_progress", "incomplete", "late", "missing"],
    "score_scales": ["status", "date_last_modified", "extensions", "content_hash", "title", "type", "org_sourced_id",
                     "course_sourced_id", "class_sourced_id", "score_scale_value"],
    "line_item_score_scales": ["status", "date_last_modified", "extensions", "content_hash", "title",
                               "line_item_sourced_id", "score_scale_sourced_id"],
    "result_score_scales": ["status", "date_last_modified", "extensions", "content_hash", "title",
                            "result_sourced_id", "score_scale_sourced_id"],
    "line_item_learning_objective_ids": ["status", "date_last_modified", "extensions", "content_hash",
                                         "line_item_sourced_id", "objective_source", "learning_objective_id"],
    "result_learning_objective_ids": ["status", "date_last_modified", "extensions", "content_hash",
                                      "result_sourced_id", "objective_source", "learning_objective_id", "score",
                                      "text_score"],
    "resources": ["status", "date_last_modified", "extensions", "content_hash", "vendor_resource_id", "title",
                  "roles", "importance", "vendor_id", "application_id"],
    "class_resources": ["status", "date_last_modified", "extensions", "content_hash", "title", "class_sourced_id",
                        "resource_sourced_id"],
    "course_resources": ["status", "date_last_modified", "extensions", "content_hash", "title", "course_sourced_id",
                         "resource_sourced_id"],
    "user_resources": ["status", "date_last_modified", "extensions", "content_hash", "user_sourced_id",
                       "org_sourced_id", "class_sourced_id", "resource_sourced_id"],
}
BOOLEAN_COLUMNS = {"results": ["in_progress", "incomplete", "late", "missing"]}


def upgrade() -> None:
    for entity, columns in GOLDEN_COLUMNS.items():
        table = f"golden_{entity}"
        booleans = BOOLEAN_COLUMNS.get(entity, [])
        op.create_table(
            table,
            sa.Column("district", sa.String(64), primary_key=True),
            sa.Column("school_year", sa.String(9), primary_key=True),
            sa.Column("source", sa.String(64), primary_key=True),
            sa.Column("sourced_id", sa.String(255), primary_key=True),
            sa.Column("golden_id", sa.String(40), nullable=False),
            sa.Column("first_version", sa.Integer, nullable=False),
            sa.Column("last_version", sa.Integer, nullable=False),
            sa.Column("deleted_version", sa.Integer),
            *[sa.Column(c, sa.Boolean if c in booleans else sa.Text) for c in columns],
        )
        op.create_index(f"ix_{table}_golden_id", table, ["golden_id"])


def downgrade() -> None:
    for entity in reversed(list(GOLDEN_COLUMNS)):
        op.drop_table(f"golden_{entity}")
