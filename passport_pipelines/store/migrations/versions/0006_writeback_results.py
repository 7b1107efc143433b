"""Write-back results: what each write-back into PowerSchool did with each record it planned.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "writeback_results",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("versions.id"), nullable=False),
        sa.Column("district", sa.String(64), nullable=False),
        sa.Column("school_year", sa.String(9), nullable=False),
        sa.Column("destination", sa.String(64), nullable=False),
        sa.Column("record_key", sa.String(160), nullable=False),
        sa.Column("entity", sa.String(16), nullable=False),
        sa.Column("golden_id", sa.String(40), nullable=False),
        sa.Column("powerschool_id", sa.String(64)),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.Column("skipped", sa.JSON, nullable=False),
        sa.Column("rule", sa.String(64)),
        sa.Column("message", sa.Text),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("version_id", "destination", "record_key", name="uq_writeback_results_record"),
    )
    op.create_index("ix_writeback_results_record", "writeback_results",
                    ["district", "school_year", "destination", "record_key"])


def downgrade() -> None:
    op.drop_index("ix_writeback_results_record", "writeback_results")
    op.drop_table("writeback_results")
