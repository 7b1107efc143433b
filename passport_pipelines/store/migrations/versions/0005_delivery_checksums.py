"""Deliveries keep the checksum of the file they delivered, and the version of the format.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("checksum", sa.String(64)))  # sha256 of the delivered file, hex
    op.create_index("ix_deliveries_version", "deliveries", ["version_id"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_version", "deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("checksum")
