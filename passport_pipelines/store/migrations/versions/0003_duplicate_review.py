"""Duplicate review: the queue of possible duplicate people, the append-only log of decisions, and
the lineage of merged people.

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _record(side: str) -> list[sa.Column]:
    return [sa.Column(f"{side}_source", sa.String(64), nullable=False),
            sa.Column(f"{side}_sourced_id", sa.String(255), nullable=False)]


def upgrade() -> None:
    op.create_table(
        "duplicate_cases",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("district", sa.String(64), nullable=False),
        sa.Column("school_year", sa.String(9), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        *_record("left"), *_record("right"),
        sa.Column("domain", sa.String(64), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("agreed", sa.JSON, nullable=False),
        sa.Column("scores", sa.JSON, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_version_id", sa.Integer, sa.ForeignKey("versions.id"), nullable=False),
        sa.Column("decision_id", sa.Integer),
        sa.UniqueConstraint("district", "school_year", "entity", "left_source", "left_sourced_id", "right_source",
                            "right_sourced_id", name="uq_duplicate_cases_pair"),
    )
    op.create_index("ix_duplicate_cases_status", "duplicate_cases", ["district", "school_year", "status"])
    op.create_table(
        "duplicate_decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("district", sa.String(64), nullable=False),
        sa.Column("school_year", sa.String(9), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("duplicate_cases.id")),
        sa.Column("action", sa.String(16), nullable=False),
        *_record("primary"), *_record("secondary"),
        sa.Column("golden_id", sa.String(40), nullable=False),
        sa.Column("take_fields", sa.JSON, nullable=False),
        sa.Column("domain", sa.String(64)),
        sa.Column("explanation", sa.JSON, nullable=False),
        sa.Column("decided_by", sa.String(128), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("versions.id")),
        sa.Column("undoes", sa.Integer, sa.ForeignKey("duplicate_decisions.id")),
    )
    op.create_index("ix_duplicate_decisions_district", "duplicate_decisions", ["district", "school_year", "entity"])
    op.create_table(
        "golden_lineage",
        sa.Column("district", sa.String(64), primary_key=True),
        sa.Column("school_year", sa.String(9), primary_key=True),
        sa.Column("entity", sa.String(32), primary_key=True),
        sa.Column("golden_id", sa.String(40), primary_key=True),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("versions.id"), nullable=False),
        sa.Column("lineage", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("golden_lineage")
    op.drop_index("ix_duplicate_decisions_district", "duplicate_decisions")
    op.drop_table("duplicate_decisions")
    op.drop_index("ix_duplicate_cases_status", "duplicate_cases")
    op.drop_table("duplicate_cases")
