"""The plan: which golden values PowerSchool should receive for a committed version.

Students (golden people with role ``student``):

- **UPDATE** — the person has a PowerSchool record (``student-<DCID>`` of the write-back's PowerSchool
  source, under the same golden id) and a golden value, chosen by the master fields and possibly from
  another source, differs from what that record holds. One change per differing field.
- **INSERT** — an enabled golden student with no PowerSchool record (they came from another source):
  every golden value PowerSchool can hold, plus the school enrollment (school, grade level, entry and
  exit date of the school year) it needs to create a student.

Guardians (golden people with role parent, guardian or relative) become contacts the same way:
UPDATE where a contact (``contact-<contactId>``) holds another value, INSERT for a guardian PowerSchool
does not have, linked to their students (``links``).

A golden value no source has (NULL) is never planned: PowerSchool keeps its own. Names are the
exception, so that the guard records a blank name as refused rather than it vanishing. Every
change is planned as PowerSchool would see it, forbidden ones included: the guard (``rules``), not
the plan, decides what may be sent, so that a refused change is recorded with its rule.

The plan is two Arrow tables built in DuckDB, one row per change (no per-record Python):
``changes(record_key, entity, golden_id, powerschool_id, action, field, value)`` and
``links(golden_id, student_golden_id, student_powerschool_id, relationship)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

from passport_pipelines.config.destinations import PowerSchoolWritebackDestination
from passport_pipelines.config.integration import Integration
from passport_pipelines.delivery.writeback import fields as wf
from passport_pipelines.delivery.writeback.golden import load_golden
from passport_pipelines.sql.engine import connect
from passport_pipelines.sql.quoting import ident, lit
from passport_pipelines.store.golden_store import GoldenStore

CHANGE_SCHEMA = pa.schema([("record_key", pa.string()), ("entity", pa.string()), ("golden_id", pa.string()),
                           ("powerschool_id", pa.string()), ("action", pa.string()), ("field", pa.string()),
                           ("value", pa.string())])
LINK_SCHEMA = pa.schema([("golden_id", pa.string()), ("student_golden_id", pa.string()),
                         ("student_powerschool_id", pa.string()), ("relationship", pa.string())])
RECORD_KEY_SQL = "entity || ':' || golden_id || ':' || action || ':' || coalesce(powerschool_id, 'new')"


class WritebackSetupError(ValueError):
    """The write-back cannot know what PowerSchool holds: nothing is planned or sent."""


@dataclass
class Plan:
    changes: pa.Table  # CHANGE_SCHEMA
    links: pa.Table  # LINK_SCHEMA: the students of each contact to insert


def build_plan(store: GoldenStore, integration: Integration, destination: PowerSchoolWritebackDestination,
               school_year: str) -> Plan:
    """What PowerSchool should receive from the version now on record for the district's year. What
    PowerSchool holds is what its source read: a source that does not read users would make every
    student look new, so it is refused; one that does not read demographics is not compared on them."""
    source = integration.source(destination.source)
    if not source.wants("users"):
        raise WritebackSetupError(
            f"destination {destination.name}: source {source.name} does not read users (entities:), so what "
            "PowerSchool holds is unknown; add users to the source's entities to write back")
    con = connect()
    try:
        load_golden(con, store, integration, school_year, source.name)
        return plan_from_golden(con, getattr(source, "sis_id_prefix", None) or "",
                                compare_demographics=source.wants("demographics"),
                                contacts=getattr(source, "contacts", "contact_module") == "contact_module")
    finally:
        con.close()


def _own_id(entity: str, prefix: str) -> str:
    pattern = "^" + wf.ID_PREFIX[entity] + "([0-9]+)$"
    return (f"CASE WHEN starts_with(u.sourced_id, {lit(prefix)}) THEN nullif(regexp_extract("
            f"substr(u.sourced_id, {len(prefix) + 1}), {lit(pattern)}, 1), '') END")


def _prepare(con: duckdb.DuckDBPyConnection, prefix: str) -> None:
    """One row per golden student / guardian, and per PowerSchool student / contact, in PowerSchool's terms."""
    grade = wf.GRADE_LEVEL_SQL.format(col="u.grades")
    gender = wf.GENDER_SQL.format(col="d.sex")
    person = ("u.given_name, u.middle_name, u.family_name, u.email, u.username, u.identifier, u.state_id, "
              f"{grade} AS grade_level, d.birth_date, {gender} AS gender")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE wb_golden_students AS
        SELECT u.sourced_id AS golden_id, coalesce(u.enabled_user, true) AS enabled, {person},
               o.identifier AS school, y.entry_date, y.exit_date
        FROM golden_users AS u
        LEFT JOIN golden_demographics AS d ON d.sourced_id = u.sourced_id
        LEFT JOIN org_ids AS o ON o.golden_id = split_part(u.org_sourced_ids, ',', 1)
        LEFT JOIN school_year_dates AS y ON true
        WHERE u.role = 'student'""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE wb_own_students AS
        SELECT * FROM (
            SELECT u.golden_id, {_own_id(wf.STUDENT, prefix)} AS powerschool_id, {person}, o.identifier AS school
            FROM own_users AS u
            LEFT JOIN own_demographics AS d ON d.sourced_id = u.sourced_id
            LEFT JOIN org_ids AS o ON o.source = u.source AND o.sourced_id = split_part(u.org_sourced_ids, ',', 1)
            WHERE u.role = 'student')
        WHERE powerschool_id IS NOT NULL""")
    roles = ", ".join(lit(r) for r in wf.GUARDIAN_ROLES)
    contact = "u.given_name, u.middle_name, u.family_name, u.identifier, u.email, u.sms, u.phone"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE wb_golden_contacts AS
        SELECT u.sourced_id AS golden_id, u.role, {contact} FROM golden_users AS u WHERE u.role IN ({roles})""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE wb_own_contacts AS
        SELECT * FROM (SELECT u.golden_id, {_own_id(wf.CONTACT, prefix)} AS powerschool_id, {contact}
                       FROM own_users AS u WHERE u.role IN ({roles}))
        WHERE powerschool_id IS NOT NULL""")


def _updates(entity: str, golden: str, own: str, fields: tuple[tuple[str, str], ...]) -> list[str]:
    parts = []
    for column, field in fields:
        col = ident(column)
        keep_null = f" OR g.{col} IS NULL" if field in wf.NAME_FIELDS else ""
        parts.append(f"""SELECT {lit(entity)} AS entity, g.golden_id, p.powerschool_id, {lit(wf.UPDATE)} AS action,
                                {lit(field)} AS field, CAST(g.{col} AS VARCHAR) AS value
                         FROM {golden} AS g JOIN {own} AS p ON p.golden_id = g.golden_id
                         WHERE g.{col} IS DISTINCT FROM p.{col} AND (g.{col} IS NOT NULL{keep_null})""")
    return parts


def _inserts(entity: str, new: str, fields: tuple[tuple[str, str], ...]) -> list[str]:
    return [f"""SELECT {lit(entity)} AS entity, golden_id, CAST(NULL AS VARCHAR) AS powerschool_id,
                       {lit(wf.INSERT)} AS action, {lit(field)} AS field, CAST({ident(column)} AS VARCHAR) AS value
                FROM {new} WHERE {ident(column)} IS NOT NULL""" for column, field in fields]


def plan_from_golden(con: duckdb.DuckDBPyConnection, prefix: str = "", *, compare_demographics: bool = True,
                     contacts: bool = True) -> Plan:
    """The plan from the tables ``load_golden`` made in ``con``. ``compare_demographics``: whether
    PowerSchool's demographics were read (else no demographics UPDATE: its values are unknown).
    ``contacts``: whether the district keeps guardians in PowerSchool's Contact Module (else, with
    ``contacts: student_fields``, no guardian is written back: the contacts API is not theirs)."""
    _prepare(con, prefix)
    compared = tuple(pair for pair in wf.STUDENT_FIELDS
                     if compare_demographics or not pair[1].startswith("demographics."))
    con.execute("""CREATE OR REPLACE TEMP TABLE wb_new_students AS
        SELECT g.* FROM wb_golden_students AS g ANTI JOIN wb_own_students AS p ON p.golden_id = g.golden_id
        WHERE g.enabled""")
    con.execute("""CREATE OR REPLACE TEMP TABLE wb_new_contacts AS
        SELECT g.* FROM wb_golden_contacts AS g ANTI JOIN wb_own_contacts AS p ON p.golden_id = g.golden_id""")
    if not contacts:
        con.execute("DELETE FROM wb_new_contacts")
    parts = [*_updates(wf.STUDENT, "wb_golden_students", "wb_own_students", compared),
             *_inserts(wf.STUDENT, "wb_new_students", wf.STUDENT_FIELDS + wf.STUDENT_INSERT_FIELDS),
             *(_updates(wf.CONTACT, "wb_golden_contacts", "wb_own_contacts", wf.CONTACT_FIELDS) if contacts else []),
             *_inserts(wf.CONTACT, "wb_new_contacts", wf.CONTACT_FIELDS)]
    changes = con.execute(f"""
        SELECT {RECORD_KEY_SQL} AS record_key, entity, golden_id, powerschool_id, action, field, value
        FROM ({' UNION ALL '.join(parts)})
        ORDER BY entity DESC, action, golden_id, powerschool_id, field""").to_arrow_table()
    codes = " ".join(f"WHEN {lit(role)} THEN {lit(code)}" for role, code in wf.RELATIONSHIP_CODES.items())
    links = con.execute(f"""
        WITH pairs AS (SELECT user_sourced_id AS a, agent_sourced_id AS b FROM golden_agents
                       UNION SELECT agent_sourced_id, user_sourced_id FROM golden_agents)
        SELECT DISTINCT c.golden_id, s.golden_id AS student_golden_id, p.powerschool_id AS student_powerschool_id,
               CASE c.role {codes} END AS relationship
        FROM wb_new_contacts AS c
        JOIN pairs ON pairs.a = c.golden_id
        JOIN wb_golden_students AS s ON s.golden_id = pairs.b
        LEFT JOIN wb_own_students AS p ON p.golden_id = s.golden_id
        ORDER BY c.golden_id, s.golden_id, p.powerschool_id""").to_arrow_table()
    return Plan(changes.cast(CHANGE_SCHEMA), links.cast(LINK_SCHEMA))
