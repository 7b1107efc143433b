"""SSO credentials: application passwords for password-vault SSO, encrypted at rest.

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sso_credentials",
        sa.Column("district", sa.String(64), primary_key=True),
        sa.Column("school_year", sa.String(9), primary_key=True),
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("user_sourced_id", sa.String(255), primary_key=True),
        sa.Column("application", sa.String(255), primary_key=True),
        sa.Column("login", sa.Text, nullable=False),
        sa.Column("password_ciphertext", sa.Text, nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("secret_digest", sa.String(64), nullable=False),
        sa.Column("url", sa.Text),
        sa.Column("created_version_id", sa.Integer, sa.ForeignKey("versions.id"), nullable=False),
        sa.Column("updated_version_id", sa.Integer, sa.ForeignKey("versions.id"), nullable=False),
    )
    op.create_index("ix_sso_credentials_application", "sso_credentials", ["district", "school_year", "application"])


def downgrade() -> None:
    op.drop_index("ix_sso_credentials_application", "sso_credentials")
    op.drop_table("sso_credentials")
