"""Tables of the golden store (SQLAlchemy Core).

One ``golden_<entity>`` table per canonical table holds the current record of every source
row with its golden id; a record is never removed, only marked deleted in the version that
deleted it, so every version's state can be told apart. ``versions`` is the sync history,
``record_changes`` the per-record updates and deletions of each version, ``deliveries`` what
was sent where. Migrations in ``migrations/`` create these; this module must match them.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from passport_pipelines.model import entities

metadata = MetaData()

versions = Table(
    "versions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("district", String(64), nullable=False),
    Column("school_year", String(9), nullable=False),
    Column("number", Integer, nullable=False),
    Column("run_id", String(64)),
    Column("status", String(32), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("committed_by", String(128), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("committed_at", DateTime(timezone=True)),  # empty while held
    Column("base_version_id", Integer),
    Column("changes", JSON, nullable=False),
    Column("filtered", JSON, nullable=False),
    Column("sources", JSON, nullable=False),
    Column("archive_path", Text),
    Column("hold", JSON),  # why it was held: reasons and numbers per entity
    Column("held_changes", JSON),  # while held or approved: what the commit on approval applies
    Column("decided_by", String(128)),
    Column("decided_at", DateTime(timezone=True)),
    Index("ix_versions_status", "status"),
    UniqueConstraint("district", "school_year", "number", name="uq_versions_number"),
)

record_changes = Table(
    "record_changes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version_id", Integer, ForeignKey("versions.id"), nullable=False),
    Column("entity", String(32), nullable=False),
    Column("golden_id", String(40), nullable=False),
    Column("source", String(64), nullable=False),
    Column("sourced_id", String(255), nullable=False),
    Column("change", String(16), nullable=False),
    Column("changed_fields", Text),
    Index("ix_record_changes_version", "version_id"),
)

deliveries = Table(
    "deliveries", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version_id", Integer, ForeignKey("versions.id"), nullable=False),
    Column("destination", String(64), nullable=False),
    Column("format", String(32), nullable=False),
    Column("path", Text),
    Column("rows", JSON, nullable=False),
    Column("status", String(32), nullable=False),
    Column("delivered_at", DateTime(timezone=True), nullable=False),
    Column("error", Text),
    Column("checksum", String(64)),  # sha256 of the delivered file
    Index("ix_deliveries_version", "version_id"),
)

KEY = ("district", "school_year", "source", "sourced_id")


def golden_table_name(entity: str) -> str:
    return f"golden_{entity}"


# The golden tables read by golden id (a person's records, merges and their undoing, the records a
# domain of uniqueness gathers); on the others an index on it would only slow every commit.
GOLDEN_ID_INDEXED = ("users", "orgs", "academic_sessions", "courses", "classes")


def golden_id_index(entity: str) -> str | None:
    """The name of the entity's golden id index, or None when its table has none."""
    return f"ix_{golden_table_name(entity)}_golden_id" if entity in GOLDEN_ID_INDEXED else None


def _golden_table(entity: str) -> Table:
    cols = [
        Column("district", String(64), primary_key=True),
        Column("school_year", String(9), primary_key=True),
        Column("source", String(64), primary_key=True),
        Column("sourced_id", String(255), primary_key=True),
        Column("golden_id", String(40), nullable=False),
        Column("first_version", Integer, nullable=False),
        Column("last_version", Integer, nullable=False),
        Column("deleted_version", Integer),
    ]
    bools = set(entities.boolean_columns(entity))
    for name in entities.columns(entity):
        if name in KEY:
            continue
        cols.append(Column(name, Boolean if name in bools else Text))
    index = golden_id_index(entity)
    return Table(golden_table_name(entity), metadata, *cols, *([Index(index, "golden_id")] if index else []))


golden_tables: dict[str, Table] = {entity: _golden_table(entity) for entity in entities.ENTITIES}

# SSO credentials (``validation/credentials/``): one row per source, person and application. The password
# is only ever here as AES-GCM ciphertext with the id of the key that wrote it; ``secret_digest``
# is a keyed HMAC of the row's content, to tell an unchanged credential without decrypting it.
# Migration 0002 creates it.
sso_credentials = Table(
    "sso_credentials", metadata,
    Column("district", String(64), primary_key=True),
    Column("school_year", String(9), primary_key=True),
    Column("source", String(64), primary_key=True),
    Column("user_sourced_id", String(255), primary_key=True),
    Column("application", String(255), primary_key=True),
    Column("login", Text, nullable=False),
    Column("password_ciphertext", Text, nullable=False),
    Column("key_id", String(16), nullable=False),
    Column("secret_digest", String(64), nullable=False),
    Column("url", Text),
    Column("created_version_id", Integer, ForeignKey("versions.id"), nullable=False),
    Column("updated_version_id", Integer, ForeignKey("versions.id"), nullable=False),
    Index("ix_sso_credentials_application", "district", "school_year", "application"),
)

# Duplicate review (``reconciliation/``), migration 0003. A case is a pair of person records a
# manual domain (or the twin guard) found: pending until someone resolves it. Decisions are an
# append-only log: unattended merges made by syncs, resolutions made by people, and undos, which
# point at the decision they take back. Records are named by (source, sourced_id), never by value.
def _record(side: str) -> list[Column]:
    return [Column(f"{side}_source", String(64), nullable=False),
            Column(f"{side}_sourced_id", String(255), nullable=False)]


duplicate_cases = Table(
    "duplicate_cases", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("district", String(64), nullable=False),
    Column("school_year", String(9), nullable=False),
    Column("entity", String(32), nullable=False),
    *_record("left"), *_record("right"),
    Column("domain", String(64), nullable=False),
    Column("score", Float, nullable=False),
    Column("agreed", JSON, nullable=False),
    Column("scores", JSON, nullable=False),
    Column("reason", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending | resolved
    Column("created_version_id", Integer, ForeignKey("versions.id"), nullable=False),
    Column("decision_id", Integer),
    UniqueConstraint("district", "school_year", "entity", "left_source", "left_sourced_id", "right_source",
                     "right_sourced_id", name="uq_duplicate_cases_pair"),
    Index("ix_duplicate_cases_status", "district", "school_year", "status"),
)

duplicate_decisions = Table(
    "duplicate_decisions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("district", String(64), nullable=False),
    Column("school_year", String(9), nullable=False),
    Column("entity", String(32), nullable=False),
    Column("case_id", Integer, ForeignKey("duplicate_cases.id")),
    Column("action", String(16), nullable=False),  # merge | delete | ignore | create-new | undo
    *_record("primary"), *_record("secondary"),
    Column("golden_id", String(40), nullable=False),  # the primary's golden id when decided
    Column("take_fields", JSON, nullable=False),
    Column("domain", String(64)),
    Column("explanation", JSON, nullable=False),
    Column("decided_by", String(128), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    Column("version_id", Integer, ForeignKey("versions.id")),
    Column("undoes", Integer, ForeignKey("duplicate_decisions.id")),
    Index("ix_duplicate_decisions_district", "district", "school_year", "entity"),
)

# Where each attribute of a merged person comes from (``reconciliation/golden_people.py``): one row
# per golden id with more than one record, as last delivered. A person with one record takes every
# attribute from it, so needs no row.
golden_lineage = Table(
    "golden_lineage", metadata,
    Column("district", String(64), primary_key=True),
    Column("school_year", String(9), primary_key=True),
    Column("entity", String(32), primary_key=True),
    Column("golden_id", String(40), primary_key=True),
    Column("version_id", Integer, ForeignKey("versions.id"), nullable=False),
    Column("lineage", Text, nullable=False),  # JSON: attribute -> SOURCE:SOURCED_ID
)

# Write-back into PowerSchool and Google Workspace (``delivery/writeback/``), migration 0006: one row per record a
# write-back of a version planned for a destination, with what happened to it. ``record_key`` names the
# record within the write-back (entity, golden id, action, target id or "new"); a retry of the same
# version replaces its row. ``fields`` and ``skipped`` hold field names and rule names only, never values.
# ``powerschool_id`` is the record's id in the destination's system: a DCID or contactId, or (entity
# ``account``) a Google user id.
writeback_results = Table(
    "writeback_results", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version_id", Integer, ForeignKey("versions.id"), nullable=False),
    Column("district", String(64), nullable=False),
    Column("school_year", String(9), nullable=False),
    Column("destination", String(64), nullable=False),
    Column("record_key", String(160), nullable=False),
    Column("entity", String(16), nullable=False),  # student | contact | account
    Column("golden_id", String(40), nullable=False),
    Column("powerschool_id", String(64)),  # DCID / contactId; for an insert, the id PowerSchool gave it
    Column("action", String(8), nullable=False),  # INSERT | UPDATE | SUSPEND
    Column("status", String(16), nullable=False),  # sent | failed | skipped
    Column("fields", JSON, nullable=False),  # the fields sent (or meant to be sent)
    Column("skipped", JSON, nullable=False),  # field -> rule, for changes a rule kept out of the request
    Column("rule", String(64)),  # what kept the whole record from being sent, if anything
    Column("message", Text),
    Column("attempts", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("version_id", "destination", "record_key", name="uq_writeback_results_record"),
    Index("ix_writeback_results_record", "district", "school_year", "destination", "record_key"),
)

# Sync notifications, migration 0007: one row per run whose outcome was announced (finished, held or
# failed). Whoever inserts it first sends the notification (the `passport sync` process, or the
# run-status sensors of a daemon watching the same instance): each run's notification goes once.
sync_notifications = Table(
    "sync_notifications", metadata,
    Column("run_id", String(64), primary_key=True),
    Column("event", String(16), nullable=False),
    Column("district", String(64), nullable=False),
    Column("school_year", String(9), nullable=False),
    Column("claimed_by", String(64), nullable=False),  # cli | sensor
    Column("claimed_at", DateTime(timezone=True), nullable=False),
)

# The apps that read the OneRoster REST provider (``rest_provider``): the secret only as its hash;
# ``generation`` grows at each rotation, so tokens issued before it are refused.
api_clients = Table(
    "api_clients", metadata,
    Column("client_id", String(128), primary_key=True),
    Column("district", String(64), nullable=False),
    Column("destination", String(64), nullable=False),
    Column("secret_hash", String(255), nullable=False),
    Column("generation", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("rotated_at", DateTime(timezone=True), nullable=False),
)

# What each app read, per day: requests answered, records served, requests refused.
api_usage = Table(
    "api_usage", metadata,
    Column("client_id", String(128), nullable=False),
    Column("district", String(64), nullable=False),
    Column("school_year", String(9), nullable=False),
    Column("day", String(10), nullable=False),
    Column("requests", BigInteger, nullable=False),
    Column("records", BigInteger, nullable=False),
    Column("refused", BigInteger, nullable=False),
    Column("last_request_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("client_id", "district", "school_year", "day", name="pk_api_usage"),
)
