"""Golden id indexes only where records are looked up by golden id: people and the records a domain of
uniqueness may merge (users, orgs, academic sessions, courses, classes). On every other golden table
the index was upkeep without a reader, and at a million students rebuilding the one on enrollments
alone took most of 20 seconds of a first sync's commit.

Revision ID: 0015
Revises: 0014
"""
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# The golden tables whose golden id index goes (as they were when this migration was written).
UNINDEXED = ("roles", "enrollments", "demographics", "agents", "categories", "line_items", "results",
             "score_scales", "line_item_score_scales", "result_score_scales", "line_item_learning_objective_ids",
             "result_learning_objective_ids", "resources", "class_resources", "course_resources", "user_resources")


def upgrade() -> None:
    for entity in UNINDEXED:
        op.drop_index(f"ix_golden_{entity}_golden_id", table_name=f"golden_{entity}")


def downgrade() -> None:
    for entity in UNINDEXED:
        op.create_index(f"ix_golden_{entity}_golden_id", f"golden_{entity}", ["golden_id"])
