"""OneRoster REST provider: the apps allowed to read it (client id, hashed secret) and what each read.

Revision ID: 0014
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_clients",
        sa.Column("client_id", sa.String(128), primary_key=True),
        sa.Column("district", sa.String(64), nullable=False),
        sa.Column("destination", sa.String(64), nullable=False),
        sa.Column("secret_hash", sa.String(255), nullable=False),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "api_usage",
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("district", sa.String(64), nullable=False),
        sa.Column("school_year", sa.String(9), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("requests", sa.BigInteger, nullable=False),
        sa.Column("records", sa.BigInteger, nullable=False),
        sa.Column("refused", sa.BigInteger, nullable=False),
        sa.Column("last_request_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "district", "school_year", "day", name="pk_api_usage"),
    )


def downgrade() -> None:
    op.drop_table("api_usage")
    op.drop_table("api_clients")
