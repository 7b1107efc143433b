"""The guard of a Google Workspace write-back: what may never be written, enforced on the plan before
anything is sent, each refusal recorded with its rule.

Field rules take one change out of its record's request (recorded ``skipped`` with the rule):

- ``password_never_written`` — no password is ever set on an existing account (a new account gets a
  random one Google makes its user change, never kept or shown);
- ``primary_email_set_on_create_only`` — an account's address (its sign-in) is never changed;
- ``names_never_blank`` — a first or last name is never set to blank;
- ``reactivate_off`` — a suspended account is made active again only with ``reactivate: true``.

Record rules keep a whole record out:

- ``insert_required_fields`` — a new account needs an address, first and last name and an org unit
  (an address template's placeholder or the ``{school}`` was blank);
- ``address_taken`` — a new account's address is another account's already (or another new one's: the
  first by golden id gets it);
- ``outside_managed_org_units`` — an account that is not in (or under) one of the destination's org
  units is never changed or suspended: it was put elsewhere on purpose;
- ``admin_account_untouched`` — an administrator account is never changed or suspended.

And there is no delete: nothing in the plan, the requests or the client can delete an account.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from passport_pipelines.delivery.writeback.google import fields as gf
from passport_pipelines.delivery.writeback.google.plan import ACCOUNT_SCHEMA
from passport_pipelines.delivery.writeback.plan import CHANGE_SCHEMA
from passport_pipelines.delivery.writeback.rules import BLOCKED_SCHEMA, SKIPPED_SCHEMA, Guarded, all_keys
from passport_pipelines.sql.quoting import lit

RULES: dict[str, str] = {
    "password_never_written": "an existing account's password is never written",
    "primary_email_set_on_create_only": "an account's address is set when it is created, never changed",
    "names_never_blank": "a first or last name is never set to blank",
    "reactivate_off": "a suspended account is made active again only with reactivate: true",
    "insert_required_fields": "Google needs an address, both names and an org unit to create an account",
    "address_taken": "the address is another account's",
    "outside_managed_org_units": "the account is outside the destination's org units",
    "admin_account_untouched": "administrator accounts are never changed",
}


def _under(column: str, units: list[str]) -> str:
    tests = ["true" if u == "/" else f"(lower({column}) = lower({lit(u)}) OR starts_with(lower({column}), "
             f"lower({lit(u + '/')})))" for u in units]
    return "(" + " OR ".join(tests or ["false"]) + ")"


def guard_google(changes: pa.Table, accounts: pa.Table, *, managed_org_units: list[str],
                 reactivate: bool) -> Guarded:
    """Split a Google plan's changes into what may be sent, what a field rule refuses, and the records
    a record rule keeps out."""
    names = ", ".join(lit(n) for n in gf.NAME_FIELDS)
    required = ", ".join(f"({lit(f)})" for f in gf.REQUIRED_ON_INSERT)
    con = duckdb.connect()
    try:
        con.register("plan_changes", changes.cast(CHANGE_SCHEMA))
        con.register("accounts", accounts.cast(ACCOUNT_SCHEMA))
        con.execute(f"""CREATE TEMP TABLE ruled AS SELECT *, CASE
            WHEN lower(field) LIKE '%password%' THEN 'password_never_written'
            WHEN field = {lit(gf.PRIMARY_EMAIL)} AND action <> {lit(gf.INSERT)} THEN 'primary_email_set_on_create_only'
            WHEN field IN ({names}) AND trim(coalesce(value, '')) = '' THEN 'names_never_blank'
            WHEN field = {lit(gf.SUSPENDED)} AND action = {lit(gf.UPDATE)} AND value = 'false'
                 AND NOT {str(bool(reactivate)).lower()} THEN 'reactivate_off'
        END AS rule FROM plan_changes""")
        con.execute(f"""CREATE TEMP TABLE blocked AS
            WITH inserts AS (SELECT DISTINCT record_key, golden_id FROM ruled WHERE action = {lit(gf.INSERT)}),
            missing AS (
                SELECT i.record_key, 'insert_required_fields' AS rule, string_agg(r.f, ',' ORDER BY r.f) AS fields
                FROM inserts AS i CROSS JOIN (VALUES {required}) AS r(f)
                WHERE NOT EXISTS (SELECT 1 FROM ruled AS c WHERE c.record_key = i.record_key AND c.field = r.f
                                  AND c.rule IS NULL)
                GROUP BY i.record_key),
            addresses AS (
                SELECT c.record_key, lower(c.value) AS address,
                       row_number() OVER (PARTITION BY lower(c.value) ORDER BY c.golden_id) AS nth
                FROM ruled AS c WHERE c.action = {lit(gf.INSERT)} AND c.field = {lit(gf.PRIMARY_EMAIL)}),
            taken AS (
                SELECT record_key, 'address_taken' AS rule, CAST(NULL AS VARCHAR) AS fields FROM addresses AS a
                WHERE a.nth > 1 OR EXISTS (SELECT 1 FROM accounts AS x WHERE x.email = a.address)),
            existing AS (
                SELECT DISTINCT c.record_key,
                       CASE WHEN x.is_admin THEN 'admin_account_untouched'
                            WHEN NOT {_under('x.org_unit', managed_org_units)} THEN 'outside_managed_org_units'
                       END AS rule, CAST(NULL AS VARCHAR) AS fields
                FROM ruled AS c JOIN accounts AS x ON x.google_id = c.powerschool_id
                WHERE c.action <> {lit(gf.INSERT)})
            SELECT * FROM missing
            UNION ALL SELECT * FROM taken ANTI JOIN missing USING (record_key)
            UNION ALL SELECT * FROM existing WHERE rule IS NOT NULL""")
        allowed = con.execute("""SELECT record_key, entity, golden_id, powerschool_id, action, field, value
            FROM ruled WHERE rule IS NULL AND record_key NOT IN (SELECT record_key FROM blocked)
            ORDER BY action, golden_id, powerschool_id, field""").to_arrow_table()
        skipped = con.execute("SELECT record_key, field, rule FROM ruled WHERE rule IS NOT NULL "
                              "ORDER BY record_key, field").to_arrow_table()
        blocked = con.execute("SELECT record_key, rule, fields FROM blocked ORDER BY record_key").to_arrow_table()
    finally:
        con.close()
    return Guarded(allowed.cast(CHANGE_SCHEMA), skipped.cast(SKIPPED_SCHEMA), blocked.cast(BLOCKED_SCHEMA))


class ForbiddenWrite(RuntimeError):
    """A request about to be sent holds what the guard refuses: a bug, never sent."""


def check_request(action: str, body: dict) -> None:
    """The last look at one request before it goes out, on the JSON itself."""
    keys = set(all_keys(body))
    if action != gf.INSERT and any("password" in k.lower() for k in keys):
        raise ForbiddenWrite(f"a password in an {action}")
    if action != gf.INSERT and "primaryEmail" in body:
        raise ForbiddenWrite(f"an address change in an {action}")
    name = body.get("name") or {}
    if any(k in name and not str(name[k] or "").strip() for k in ("givenName", "familyName")):
        raise ForbiddenWrite("a blank name")
    if action == gf.SUSPEND and set(body) != {"suspended"}:
        raise ForbiddenWrite("a suspension that changes more than suspended")
