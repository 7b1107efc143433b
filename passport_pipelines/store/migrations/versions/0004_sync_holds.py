"""Sync holds: a version can wait for approval before it is committed.

A held version has a number and its change counts but no committed records yet: ``hold`` says
why it is held (the numbers per entity), ``held_changes`` where its change set waits, and
``decided_by`` / ``decided_at`` who approved or rejected it. It is committed only on approval,
so ``committed_at`` is empty until then.

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite alters a column's nullability only by copying the table: batch mode does that.
    with op.batch_alter_table("versions") as batch:
        batch.alter_column("committed_at", existing_type=sa.DateTime(timezone=True), nullable=True)
        batch.add_column(sa.Column("hold", sa.JSON))
        batch.add_column(sa.Column("held_changes", sa.JSON))
        batch.add_column(sa.Column("decided_by", sa.String(128)))
        batch.add_column(sa.Column("decided_at", sa.DateTime(timezone=True)))
    op.create_index("ix_versions_status", "versions", ["status"])


def downgrade() -> None:
    op.drop_index("ix_versions_status", "versions")
    with op.batch_alter_table("versions") as batch:
        for name in ("decided_at", "decided_by", "held_changes", "hold"):
            batch.drop_column(name)
        batch.alter_column("committed_at", existing_type=sa.DateTime(timezone=True), nullable=False)
