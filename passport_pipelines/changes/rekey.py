"""Re-keying a source whose identity settings changed: its records on record carried to the keys the new
settings give them, in DuckDB, one entity at a time.

Every id a source gives is written ``sis_id_prefix + own id``, except a school its ``schools`` mapping
names, written as the district school's id (``normalize/rules/finish.py``). So a record's new key is its old one
with the old prefix taken off and the new one put on, under the source's new name; a school's goes
through the old and the new ``schools`` mapping (``school_keys``). References (a user's orgs, an
enrollment's class, ...) are carried the same way, and the content hash is computed again over them.

The change set then deletes every old key (reason ``rekeyed``) and adds the new keys with the golden
ids the old records had: what is delivered keeps its ids, and people or records merged by duplicate
review stay merged. A complete file (bulk, full mode) has every record under its new key already; an
incremental source does not resend what did not change, so its records on record are carried over,
the file's own rows winning.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from passport_pipelines.changes.identity import IdentityChange
from passport_pipelines.config.source_identity import SourceIdentity
from passport_pipelines.model import entities
from passport_pipelines.normalize.sql_models import content_hash_sql
from passport_pipelines.sql.quoting import ident, lit

SCHOOL_KEYS = "rekey__schools"


class IdentityChangeError(ValueError):
    """A source's records on record cannot be carried to the keys its new identity settings give."""


def _own_id(identity: SourceIdentity, key: str) -> str:
    prefix = identity.prefix
    return key[len(prefix):] if prefix and key.startswith(prefix) else key


def school_keys(change: IdentityChange, schools_on_record: list[dict], district_schools: list) -> dict[str, str | None]:
    """Old key -> new key of every school the source's records may name (None: the new settings place
    it nowhere that can be known). ``schools_on_record``: the source's school orgs (``sourced_id``,
    ``identifier``); ``district_schools``: the district's ``schools:`` list."""
    old, new = change.previous, change.current
    if old.schools is None and new.schools is None:
        return {}
    by_id = {s.id: s.identifier for s in district_schools}
    by_identifier = {s.identifier: s.id for s in district_schools if s.identifier}
    identifiers = {r["sourced_id"]: r.get("identifier") for r in schools_on_record}
    if old.schools is not None:
        identifiers.update({d: i for d, i in by_id.items()})  # a mapped school took the district's identifier
    if old.schools == new.schools:  # district school ids stay; the others are the source's own ids
        return {k: (k if k in by_id else new.prefix + _own_id(old, k)) for k in identifiers}
    out = {}
    for key, identifier in identifiers.items():
        own: set[str | None]
        if old.schools is None:
            own = {_own_id(old, key)}
        elif old.explicit_map is not None:
            own = {s for s, d in old.explicit_map.items() if d == key} or {None}
        else:  # auto: the source's own school id is not on record, only the identifier it matched on
            own = {None}
        if new.schools is None:
            found = {new.prefix + s if s is not None else None for s in own}
        elif new.explicit_map is not None:
            found = {new.explicit_map.get(s) if s is not None else None for s in own}
        else:
            found = {by_identifier.get(identifier) if identifier else None}
        out[key] = found.pop() if len(found) == 1 else None
    return out


def register_school_keys(con: duckdb.DuckDBPyConnection, keys: dict[str, str | None]) -> None:
    con.register(SCHOOL_KEYS, pa.table({"old_key": pa.array(list(keys), pa.string()),
                                        "new_key": pa.array(list(keys.values()), pa.string())}))


def _translated(value: str, change: IdentityChange) -> str:
    """SQL: an own id of the source under its new settings."""
    old, new = change.previous.prefix, change.current.prefix
    own = value if not old else (f"CASE WHEN starts_with({value}, {lit(old)}) "
                                 f"THEN substr({value}, {len(old) + 1}) ELSE {value} END")
    return own if not new else f"({lit(new)} || {own})"


def _org(value: str, change: IdentityChange) -> str:
    """SQL: an org id under the new settings (a school through ``school_keys``)."""
    return f"CASE WHEN map_contains(sk.mp, {value}) THEN sk.mp[{value}] ELSE {_translated(value, change)} END"


def _id_columns(entity: str) -> list[tuple[str, str, bool]]:
    columns = [("sourced_id", "users" if entity == "demographics" else entity, False)]
    return columns + [(r.column, r.entity, r.is_list) for r in entities.REFERENCES.get(entity, ())
                      if r.column != "sourced_id"]


def carry_records(con: duckdb.DuckDBPyConnection, entity: str, on_record: str, change: IdentityChange) -> str:
    """``carried__<entity>``: every record of ``on_record`` (the source's current records, full rows with
    golden ids) under its new key, with references carried, the content hash computed again,
    ``golden_id``, and its old key as ``old_source``, ``old_sourced_id``. Needs ``register_school_keys``.
    A school the new settings place nowhere has no new key (``sourced_id`` NULL): it is only deleted."""
    replaced = [f"{lit(change.current.name)} AS source"]
    for column, target, is_list in _id_columns(entity):
        c = f"t.{ident(column)}"
        one = _org if target == "orgs" else _translated
        if is_list:
            replaced.append(f"CASE WHEN {c} IS NULL THEN NULL ELSE array_to_string(list_transform("
                            f"string_split({c}, ','), x -> {one('x', change)}), ',') END AS {ident(column)}")
        else:
            replaced.append(f"{one(c, change)} AS {ident(column)}")
    canonical = ", ".join(f"{content_hash_sql(entity)} AS content_hash" if c == "content_hash" else ident(c)
                          for c in entities.columns(entity))
    con.execute(f"""CREATE OR REPLACE TEMP TABLE carried__{entity} AS
        SELECT {canonical}, golden_id, old_source, old_sourced_id
        FROM (SELECT t.* REPLACE ({', '.join(replaced)}), t.source AS old_source, t.sourced_id AS old_sourced_id
              FROM {on_record} AS t
              CROSS JOIN (SELECT map(coalesce(list(old_key), []), coalesce(list(new_key), [])) AS mp
                          FROM {SCHOOL_KEYS}) AS sk)""")
    return f"carried__{entity}"
