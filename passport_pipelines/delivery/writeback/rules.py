"""The guard: PowerSchool's write rules, enforced on the plan before anything is sent.

Field rules remove one change from its record's request; the change is recorded as ``skipped``
with the rule's name, and never sent:

- ``student_username_not_writable`` — a student's username is never written (PowerSchool does not
  take it, on UPDATE or INSERT);
- ``password_never_written`` — no password of anyone, ever;
- ``school_enrollment_insert_only`` — a student's school enrollment (school, grade level, dates) is
  set only when the student is created;
- ``names_never_blank`` — a first or last name is never set to blank;
- ``gender_m_or_f`` — a student's gender is M or F (PowerSchool's only values).

Record rules keep a whole record out of the request (``blocked``), since PowerSchool could not
create it:

- ``insert_required_fields`` — an INSERT lacks a field PowerSchool requires (student: first and last
  name, grade level, entry and exit date, school number; contact: first and last name);
- ``contact_needs_student`` — a new contact is linked to no student (PowerSchool keeps contacts
  through their students, and so does the reader).

Everything else a plan holds (other student attributes, every guardian attribute) may be created
and updated. The guard works on the plan's change table in DuckDB, one set operation per rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

from passport_pipelines.delivery.writeback.fields import (
    CONTACT,
    INSERT,
    NAME_FIELDS,
    REQUIRED_ON_INSERT,
    STUDENT,
    UPDATE,
)
from passport_pipelines.delivery.writeback.plan import CHANGE_SCHEMA, LINK_SCHEMA
from passport_pipelines.sql.quoting import lit

RULES: dict[str, str] = {
    "student_username_not_writable": "a student's username is never written to PowerSchool",
    "password_never_written": "passwords are never written",
    "school_enrollment_insert_only": "a student's school enrollment is set only when the student is created",
    "names_never_blank": "a first or last name is never set to blank",
    "gender_m_or_f": "PowerSchool takes gender M or F only",
    "insert_required_fields": "PowerSchool needs these fields to create the record",
    "contact_needs_student": "a new contact needs a student to belong to",
}

_NAMES = ", ".join(lit(n) for n in NAME_FIELDS)
FIELD_RULE_SQL = f"""CASE
    WHEN lower(field) LIKE '%password%' THEN 'password_never_written'
    WHEN entity = {lit(STUDENT)} AND field = 'student_username' THEN 'student_username_not_writable'
    WHEN entity = {lit(STUDENT)} AND action = {lit(UPDATE)} AND (field = 'school_enrollment'
         OR field LIKE 'school_enrollment.%') THEN 'school_enrollment_insert_only'
    WHEN field IN ({_NAMES}) AND trim(coalesce(value, '')) = '' THEN 'names_never_blank'
    WHEN entity = {lit(STUDENT)} AND field = 'demographics.gender' AND coalesce(value, '') NOT IN ('M', 'F')
         THEN 'gender_m_or_f'
END"""

SKIPPED_SCHEMA = pa.schema([("record_key", pa.string()), ("field", pa.string()), ("rule", pa.string())])
BLOCKED_SCHEMA = pa.schema([("record_key", pa.string()), ("rule", pa.string()), ("fields", pa.string())])


@dataclass
class Guarded:
    allowed: pa.Table  # CHANGE_SCHEMA: what may be sent
    skipped: pa.Table  # SKIPPED_SCHEMA: changes removed from their record's request, with the rule
    blocked: pa.Table  # BLOCKED_SCHEMA: records kept out whole; ``fields``: the missing ones, comma-separated


def _required() -> str:
    rows = [f"({lit(entity)}, {lit(field)})" for entity, fields in REQUIRED_ON_INSERT.items() for field in fields]
    return f"(VALUES {', '.join(rows)}) AS r(entity, field)"


def guard(changes: pa.Table, links: pa.Table | None = None) -> Guarded:
    """Split a plan's changes into what may be sent, what a field rule refuses, and the records a
    record rule keeps out. ``links``: the students of new contacts (a plan's ``links``)."""
    con = duckdb.connect()
    try:
        con.register("plan_changes", changes.cast(CHANGE_SCHEMA))
        con.register("plan_links", (links if links is not None else LINK_SCHEMA.empty_table()).cast(LINK_SCHEMA))
        con.execute(f"CREATE TEMP TABLE ruled AS SELECT *, {FIELD_RULE_SQL} AS rule FROM plan_changes")
        con.execute(f"""CREATE TEMP TABLE blocked AS
            WITH inserts AS (SELECT DISTINCT record_key, entity FROM ruled WHERE action = {lit(INSERT)}),
            missing AS (
                SELECT i.record_key, 'insert_required_fields' AS rule,
                       string_agg(r.field, ',' ORDER BY r.field) AS fields
                FROM inserts AS i JOIN {_required()} ON r.entity = i.entity
                WHERE NOT EXISTS (SELECT 1 FROM ruled AS c WHERE c.record_key = i.record_key AND c.field = r.field
                                  AND c.rule IS NULL)
                GROUP BY i.record_key),
            orphans AS (
                SELECT DISTINCT c.record_key, 'contact_needs_student' AS rule, CAST(NULL AS VARCHAR) AS fields
                FROM ruled AS c
                WHERE c.entity = {lit(CONTACT)} AND c.action = {lit(INSERT)}
                  AND NOT EXISTS (SELECT 1 FROM plan_links AS l WHERE l.golden_id = c.golden_id))
            SELECT * FROM missing
            UNION ALL
            SELECT * FROM orphans ANTI JOIN missing USING (record_key)""")
        allowed = con.execute("""SELECT record_key, entity, golden_id, powerschool_id, action, field, value
            FROM ruled WHERE rule IS NULL AND record_key NOT IN (SELECT record_key FROM blocked)
            ORDER BY entity DESC, action, golden_id, powerschool_id, field""").to_arrow_table()
        skipped = con.execute("SELECT record_key, field, rule FROM ruled WHERE rule IS NOT NULL "
                              "ORDER BY record_key, field").to_arrow_table()
        blocked = con.execute("SELECT record_key, rule, fields FROM blocked ORDER BY record_key").to_arrow_table()
    finally:
        con.close()
    return Guarded(allowed.cast(CHANGE_SCHEMA), skipped.cast(SKIPPED_SCHEMA), blocked.cast(BLOCKED_SCHEMA))


class ForbiddenChange(RuntimeError):
    """A request about to be sent holds what the guard refuses: a bug, never sent."""


def check_student_request(record: dict) -> None:
    """The last look at one ``/ws/v1/student`` record before it goes out: the hard rules again, on the
    JSON itself, so that nothing the request builder adds can slip past the guard."""
    action = record.get("action")
    if "student_username" in record or any("password" in str(k).lower() for k in all_keys(record)):
        raise ForbiddenChange(f"record {record.get('client_uid')}: a username or password in a {action}")
    if action == UPDATE and "school_enrollment" in record:
        raise ForbiddenChange(f"record {record.get('client_uid')}: school_enrollment in an UPDATE")
    names = record.get("name") or {}
    if action == UPDATE and any(k in names and not str(names[k] or "").strip() for k in ("first_name", "last_name")):
        raise ForbiddenChange(f"record {record.get('client_uid')}: a blank name in an UPDATE")
    gender = (record.get("demographics") or {}).get("gender", "M")
    if gender not in ("M", "F"):
        raise ForbiddenChange(f"record {record.get('client_uid')}: gender other than M or F")


def check_contact_request(body: dict) -> None:
    """The same last look at a contact about to be created or updated: no account or password, no
    blank name."""
    if any("password" in str(k).lower() or str(k) == "contactAccount" for k in all_keys(body)):
        raise ForbiddenChange("a contact request with an account or a password")
    if any(k in body and not str(body[k] or "").strip() for k in ("firstName", "lastName")):
        raise ForbiddenChange("a contact request with a blank name")


def all_keys(value) -> list[str]:
    if isinstance(value, dict):
        return [k for key, v in value.items() for k in (key, *all_keys(v))]
    if isinstance(value, list):
        return [k for v in value for k in all_keys(v)]
    return []
