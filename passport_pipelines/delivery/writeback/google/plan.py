"""The plan: which accounts Google Workspace should create, change and suspend for a committed version.

What the district says about each person comes from the **other** sources (the golden people built
without the Google source's own records: ``load_golden(others_only=True)``); what Google holds is
what the Google source's last extract read (its records, with ``googleId``, ``orgUnitPath`` and
``isAdmin`` in their extensions). An account belongs to a person when reconciliation made it one of
their records (same golden id), or when its SIS id (``externalIds`` of type ``organization``, the
Google record's sourced id) is the sourced id of one of the person's records in another source.

- **INSERT**: an enabled person of the destination's ``roles`` without an account: the address from
  the role's ``email`` template, the names, the org unit from the role's ``org_units`` template, and
  the person's SIS id in ``externalIds`` (so that the next read links the account to them).
- **UPDATE**: a person's account whose names or org unit differ from what the person should have; a
  suspended account of an enabled person is made active again (``suspended: false``, with
  ``reactivate``); an account without an SIS id gets the person's. The address is set when an
  account is created and never changed.
- **SUSPEND**: the account of a person the district disabled, or of a person who is gone (their
  records in the other sources were all deleted). Nothing is ever deleted.

Accounts of no known person (IT, service and test accounts, people of roles the destination does not
manage) are never planned. Two tables built in DuckDB: the changes (``CHANGE_SCHEMA``, the
PowerSchool write-back's, with the Google user id as ``powerschool_id``), and the accounts (for the
guard).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from passport_pipelines.config.destinations import GoogleWorkspaceDestination
from passport_pipelines.config.integration import Integration
from passport_pipelines.delivery.writeback.golden import load_golden
from passport_pipelines.delivery.writeback.google import fields as gf
from passport_pipelines.delivery.writeback.plan import CHANGE_SCHEMA, RECORD_KEY_SQL, WritebackSetupError
from passport_pipelines.sql.engine import connect
from passport_pipelines.sql.quoting import lit
from passport_pipelines.store.golden_store import GoldenStore

ACCOUNT_SCHEMA = pa.schema([("google_id", pa.string()), ("org_unit", pa.string()), ("is_admin", pa.bool_()),
                            ("email", pa.string())])
_PLACEHOLDER = re.compile(r"(\{[^{}]*\})")


@dataclass
class GooglePlan:
    changes: pa.Table  # CHANGE_SCHEMA
    accounts: pa.Table  # ACCOUNT_SCHEMA: every account Google holds (by the source's last read)


def _clean(column: str) -> str:
    """A value as an address part: lower case, accents stripped, only a-z 0-9 . _ - kept; blank is NULL."""
    return f"nullif(regexp_replace(lower(strip_accents(trim({column}))), '[^a-z0-9._-]', '', 'g'), '')"


def address_sql(template: str) -> str:
    """The address a template gives a person (NULL when a placeholder it uses is blank)."""
    local, _, domain = template.partition("@")
    parts = [_clean(p[1:-1]) if p.startswith("{") else lit(p.lower()) for p in _PLACEHOLDER.split(local) if p]
    return "(" + " || ".join([*parts, lit("@" + domain.lower())]) + ")"


def org_unit_sql(template: str) -> str:
    parts = ["school" if p == "{school}" else lit(p) for p in _PLACEHOLDER.split(template) if p]
    return "(" + " || ".join(parts) + ")"


def _by_role(destination: GoogleWorkspaceDestination, what: str, render) -> str:
    mapping = destination.email if what == "email" else destination.org_units
    whens = " ".join(f"WHEN {lit(role)} THEN {render(t)}" for role, t in mapping.items() if role != "*")
    default = render(mapping["*"]) if "*" in mapping else "CAST(NULL AS VARCHAR)"
    return f"CASE role {whens} ELSE {default} END" if whens else default


def build_google_plan(store: GoldenStore, integration: Integration, destination: GoogleWorkspaceDestination,
                      school_year: str) -> GooglePlan:
    source = integration.source(destination.source)
    if not source.wants("users"):
        raise WritebackSetupError(f"destination {destination.name}: source {source.name} does not read users, so "
                                  "the accounts Google holds are unknown; add users to the source's entities")
    district = integration.district
    others = [s.name for s in integration.sources if s.name != source.name]
    con = connect()
    try:
        load_golden(con, store, integration, school_year, source.name, others_only=True)
        con.register("g_keys_arrow", store.stored_keys(district, school_year, "users", others)
                     .select(["source", "sourced_id", "golden_id", "active"]))
        orgs = store.current_records(district, school_year, "orgs", ["golden_id", "name"])
        con.register("g_orgs_arrow", orgs)
        return _plan(con, destination, others, getattr(source, "sis_id_prefix", None) or "")
    finally:
        con.close()


def _plan(con: duckdb.DuckDBPyConnection, destination: GoogleWorkspaceDestination, sources: list[str],
          prefix: str) -> GooglePlan:
    rank = "CASE source " + " ".join(f"WHEN {lit(s)} THEN {i}" for i, s in enumerate(sources)) + \
        f" ELSE {len(sources)} END"
    roles = ", ".join(lit(r) for r in destination.roles)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE g_sis_ids AS
        SELECT golden_id, first(sourced_id ORDER BY {rank}, sourced_id) AS sis_id
        FROM g_keys_arrow WHERE active GROUP BY golden_id""")
    con.execute("""CREATE OR REPLACE TEMP TABLE g_all_people AS
        SELECT u.sourced_id AS golden_id, u.role, coalesce(u.enabled_user, true) AS enabled, u.given_name,
               u.family_name, u.username, u.identifier, o.name AS school, s.sis_id
        FROM golden_users AS u
        LEFT JOIN (SELECT golden_id, min(name) AS name FROM g_orgs_arrow GROUP BY golden_id) AS o
               ON o.golden_id = split_part(u.org_sourced_ids, ',', 1)
        LEFT JOIN g_sis_ids AS s ON s.golden_id = u.sourced_id""")
    address = _by_role(destination, "email", address_sql)
    org_unit = _by_role(destination, "org_units", org_unit_sql)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE g_people AS
        SELECT *, {address} AS address, {org_unit} AS target_org_unit
        FROM g_all_people WHERE role IN ({roles})""")
    own_key = (f"CASE WHEN starts_with(u.sourced_id, {lit(prefix)}) THEN substr(u.sourced_id, {len(prefix) + 1}) "
               "ELSE u.sourced_id END")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE g_accounts AS
        SELECT u.golden_id AS own_golden_id, {own_key} AS account_key,
               json_extract_string(u.extensions, '$.googleId') AS google_id,
               coalesce(json_extract_string(u.extensions, '$.orgUnitPath'), '/') AS org_unit,
               coalesce(TRY_CAST(json_extract_string(u.extensions, '$.isAdmin') AS BOOLEAN), false) AS is_admin,
               NOT coalesce(u.enabled_user, true) AS suspended, u.given_name, u.family_name, lower(u.email) AS email
        FROM own_users AS u
        WHERE json_extract_string(u.extensions, '$.googleId') IS NOT NULL""")
    # Whose account is it: the person reconciliation merged it into, else the person whose record in
    # another source has the account's SIS id (a key may be of a record deleted since: a person gone).
    con.execute("""CREATE OR REPLACE TEMP TABLE g_linked AS
        SELECT a.*, coalesce(p.golden_id, k.golden_id) AS person
        FROM g_accounts AS a
        LEFT JOIN g_all_people AS p ON p.golden_id = a.own_golden_id
        LEFT JOIN (SELECT sourced_id, arg_max(golden_id, active) AS golden_id FROM g_keys_arrow GROUP BY sourced_id)
               AS k ON k.sourced_id = a.account_key""")
    con.execute("""CREATE OR REPLACE TEMP TABLE g_account_of AS
        SELECT * FROM g_linked WHERE person IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY person ORDER BY suspended, email, google_id) = 1""")

    def change(action: str, field: str, value: str, where: str, relation: str, golden: str = "p.golden_id",
               google: str = "a.google_id") -> str:
        return f"""SELECT {lit(gf.ACCOUNT)} AS entity, {golden} AS golden_id, {google} AS powerschool_id,
                          {lit(action)} AS action, {lit(field)} AS field, CAST({value} AS VARCHAR) AS value
                   FROM {relation} WHERE {where}"""

    new = "g_people AS p ANTI JOIN g_account_of AS a ON a.person = p.golden_id"
    held = "g_people AS p JOIN g_account_of AS a ON a.person = p.golden_id"
    parts = [
        change(gf.INSERT, gf.PRIMARY_EMAIL, "p.address", "p.enabled AND p.address IS NOT NULL", new,
               google="CAST(NULL AS VARCHAR)"),
        change(gf.INSERT, gf.GIVEN_NAME, "p.given_name", "p.enabled AND p.given_name IS NOT NULL", new,
               google="CAST(NULL AS VARCHAR)"),
        change(gf.INSERT, gf.FAMILY_NAME, "p.family_name", "p.enabled AND p.family_name IS NOT NULL", new,
               google="CAST(NULL AS VARCHAR)"),
        change(gf.INSERT, gf.ORG_UNIT, "p.target_org_unit", "p.enabled AND p.target_org_unit IS NOT NULL", new,
               google="CAST(NULL AS VARCHAR)"),
        change(gf.INSERT, gf.SIS_ID, "p.sis_id", "p.enabled AND p.sis_id IS NOT NULL", new,
               google="CAST(NULL AS VARCHAR)"),
        # A name is planned even blank, for the guard to record it refused rather than let it vanish.
        change(gf.UPDATE, gf.GIVEN_NAME, "p.given_name", "p.enabled AND p.given_name IS DISTINCT FROM a.given_name",
               held),
        change(gf.UPDATE, gf.FAMILY_NAME, "p.family_name",
               "p.enabled AND p.family_name IS DISTINCT FROM a.family_name", held),
        change(gf.UPDATE, gf.ORG_UNIT, "p.target_org_unit",
               "p.enabled AND p.target_org_unit IS NOT NULL AND lower(p.target_org_unit) <> lower(a.org_unit)", held),
        change(gf.UPDATE, gf.SUSPENDED, "'false'", "p.enabled AND a.suspended", held),
        change(gf.UPDATE, gf.SIS_ID, "p.sis_id", "p.enabled AND p.sis_id IS NOT NULL AND a.account_key = a.google_id",
               held),
        change(gf.SUSPEND, gf.SUSPENDED, "'true'", "NOT p.enabled AND NOT a.suspended", held),
        # Gone: the account's person has no current record in any other source any more.
        change(gf.SUSPEND, gf.SUSPENDED, "'true'", "NOT a.suspended AND a.person IS NOT NULL AND NOT EXISTS "
               "(SELECT 1 FROM g_all_people AS x WHERE x.golden_id = a.person)", "g_account_of AS a",
               golden="a.person"),
    ]
    changes = con.execute(f"""
        SELECT {RECORD_KEY_SQL} AS record_key, entity, golden_id, powerschool_id, action, field, value
        FROM ({' UNION ALL '.join(parts)})
        ORDER BY action, golden_id, powerschool_id, field""").to_arrow_table()
    accounts = con.execute("SELECT google_id, org_unit, is_admin, email FROM g_accounts").to_arrow_table()
    return GooglePlan(changes.cast(CHANGE_SCHEMA), accounts.cast(ACCOUNT_SCHEMA))
