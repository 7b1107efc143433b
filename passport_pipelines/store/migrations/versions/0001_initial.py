"""Initial golden store: versions, golden tables per canonical entity, changes, deliveries.

Revision ID: 0001
Revises:
"""
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The canonical columns as they were when this migration was written.
GOLDEN_COLUMNS = {'academic_sessions': ['status', 'date_last_modified', 'extensions', 'content_hash', 'title', 'type',
                       'start_date', 'end_date', 'parent_sourced_id', 'ending_year'],
 'agents': ['status', 'date_last_modified', 'extensions', 'content_hash', 'user_sourced_id',
            'agent_sourced_id', 'relationship'],
 'classes': ['status', 'date_last_modified', 'extensions', 'content_hash', 'title', 'grades',
             'course_sourced_id', 'class_code', 'class_type', 'location', 'school_sourced_id',
             'term_sourced_ids', 'subjects', 'subject_codes', 'periods'],
 'courses': ['status', 'date_last_modified', 'extensions', 'content_hash', 'title', 'course_code', 'grades',
             'org_sourced_id', 'school_year_sourced_id', 'subjects', 'subject_codes'],
 'demographics': ['status', 'date_last_modified', 'extensions', 'content_hash', 'birth_date', 'sex',
                  'american_indian_or_alaska_native', 'asian', 'black_or_african_american',
                  'native_hawaiian_or_other_pacific_islander', 'white', 'two_or_more_races',
                  'hispanic_or_latino_ethnicity', 'country_of_birth_code', 'state_of_birth_abbreviation',
                  'city_of_birth', 'public_school_residence_status'],
 'enrollments': ['status', 'date_last_modified', 'extensions', 'content_hash', 'class_sourced_id',
                 'school_sourced_id', 'user_sourced_id', 'role', 'primary', 'begin_date', 'end_date'],
 'orgs': ['status', 'date_last_modified', 'extensions', 'content_hash', 'name', 'type', 'identifier',
          'parent_sourced_id'],
 'roles': ['status', 'date_last_modified', 'extensions', 'content_hash', 'user_sourced_id', 'role',
           'role_type', 'org_sourced_id', 'begin_date', 'end_date'],
 'users': ['status', 'date_last_modified', 'extensions', 'content_hash', 'enabled_user', 'role',
           'org_sourced_ids', 'username', 'user_ids', 'given_name', 'family_name', 'middle_name',
           'preferred_given_name', 'preferred_family_name', 'identifier', 'state_id', 'email', 'sms', 'phone',
           'grades']}
BOOLEAN_COLUMNS = {'academic_sessions': [],
 'agents': [],
 'classes': [],
 'courses': [],
 'demographics': ['american_indian_or_alaska_native', 'asian', 'black_or_african_american',
                  'native_hawaiian_or_other_pacific_islander', 'white', 'two_or_more_races',
                  'hispanic_or_latino_ethnicity'],
 'enrollments': ['primary'],
 'orgs': [],
 'roles': [],
 'users': ['enabled_user']}


def upgrade() -> None:
    op.create_table(
        "versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("district", sa.String(64), nullable=False),
        sa.Column("school_year", sa.String(9), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("run_id", sa.String(64)),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("committed_by", sa.String(128), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("base_version_id", sa.Integer),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.Column("filtered", sa.JSON, nullable=False),
        sa.Column("sources", sa.JSON, nullable=False),
        sa.Column("archive_path", sa.Text),
        sa.UniqueConstraint("district", "school_year", "number", name="uq_versions_number"),
    )
    op.create_table(
        "record_changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("versions.id"), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("golden_id", sa.String(40), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("sourced_id", sa.String(255), nullable=False),
        sa.Column("change", sa.String(16), nullable=False),
        sa.Column("changed_fields", sa.Text),
    )
    op.create_index("ix_record_changes_version", "record_changes", ["version_id"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("versions.id"), nullable=False),
        sa.Column("destination", sa.String(64), nullable=False),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("path", sa.Text),
        sa.Column("rows", sa.JSON, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text),
    )
    for entity, columns in GOLDEN_COLUMNS.items():
        table = f"golden_{entity}"
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
            *[sa.Column(c, sa.Boolean if c in BOOLEAN_COLUMNS[entity] else sa.Text) for c in columns],
        )
        op.create_index(f"ix_{table}_golden_id", table, ["golden_id"])


def downgrade() -> None:
    for entity in reversed(list(GOLDEN_COLUMNS)):
        op.drop_table(f"golden_{entity}")
    op.drop_table("deliveries")
    op.drop_table("record_changes")
    op.drop_table("versions")
