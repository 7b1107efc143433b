"""Sync notifications: which run's outcome has been announced, so each is sent exactly once.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_notifications",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("district", sa.String(64), nullable=False),
        sa.Column("school_year", sa.String(9), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sync_notifications")
