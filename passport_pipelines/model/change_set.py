"""What a sync changes against the last committed version, per entity.

Computed in DuckDB from the incoming canonical rows and the keys and hashes on record:
added (new keys, or keys deleted earlier that came back), updated (content hash differs;
the changed fields are named), deleted (marked tobedeleted; or, for a complete file in full
mode, missing). Deleting a user or class ends the records that depend on it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Union

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from passport_pipelines.model import entities
from passport_pipelines.sql.quoting import ident, lit

GOLDEN_PREFIX = {
    "orgs": "org", "academic_sessions": "ses", "courses": "crs", "classes": "cls", "users": "usr",
    "roles": "rol", "enrollments": "enr", "demographics": "dem", "agents": "agt",
    "categories": "cat", "line_items": "lin", "results": "rsl", "score_scales": "scs",
    "line_item_score_scales": "lss", "result_score_scales": "rss", "line_item_learning_objective_ids": "llo",
    "result_learning_objective_ids": "rlo", "resources": "rsc", "class_resources": "clr",
    "course_resources": "crr", "user_resources": "urs",
}


# Stands for the source in the golden id of a district school: every source mapped to the school
# shares it, so it is one golden school whatever the number of sources (no source may be named so:
# source names are letters, digits, ``_`` and ``-``).
DISTRICT_SCHOOL = "district school"


def own_golden_id(district: str, entity: str, source: str, sourced_id: str) -> str:
    """The golden id a record gets when it first arrives (the SQL in ``compute_entity_changes``):
    what a record split off a merged person takes back."""
    digest = hashlib.md5(f"{district}|{entity}|{source}|{sourced_id}".encode("utf-8")).hexdigest()
    return f"{GOLDEN_PREFIX[entity]}-{digest[:24]}"


def district_school_golden_id(district: str, school_id: str) -> str:
    """The golden id of a district school (the district's ``schools:`` id): one for every source."""
    return own_golden_id(district, "orgs", DISTRICT_SCHOOL, school_id)


@dataclass
class EntityChanges:
    """``upserts``: canonical columns + golden_id + change (added|restored|updated) + changed_fields.
    ``deletes``: source, sourced_id, golden_id, reason (tobedeleted|missing|cascade|rekeyed)."""

    upserts: pa.Table
    deletes: pa.Table

    def counts(self) -> dict[str, int]:
        updated = int(pc.sum(pc.equal(self.upserts.column("change"), "updated")).as_py() or 0) \
            if self.upserts.num_rows else 0
        return {"added": self.upserts.num_rows - updated, "updated": updated, "deleted": self.deletes.num_rows}


# An entity's changes, or a function that loads them when the commit reaches that entity, so a
# district's change set never has to sit in memory all at once.
EntityChangesSource = Union[EntityChanges, Callable[[], EntityChanges]]


@dataclass
class ChangeSet:
    entities: dict[str, EntityChangesSource] = field(default_factory=dict)
    known_counts: dict[str, dict[str, int]] | None = None  # when the entities are loaded lazily

    def counts(self) -> dict[str, dict[str, int]]:
        zero = {"added": 0, "updated": 0, "deleted": 0}
        if self.known_counts is not None:
            return {e: dict(self.known_counts.get(e, zero)) for e in entities.ENTITIES}
        return {e: (self.load(e).counts() if e in self.entities else dict(zero)) for e in entities.ENTITIES}

    def load(self, entity: str) -> EntityChanges:
        source = self.entities[entity]
        return source() if callable(source) else source

    def loaded(self) -> Iterator[tuple[str, EntityChanges]]:
        """Each entity's changes in turn, the next one read on another thread while the caller applies
        this one: reading a first sync's 15 million rows from Parquet took 8-10 s of a million students'
        commit, one entity after another, while the other core waited. Two entities are in memory at
        once, never all of them."""
        names = list(self.entities)
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="passport-change-set")
        try:
            upcoming = pool.submit(self.load, names[0]) if names else None
            for i, entity in enumerate(names):
                current = upcoming.result()
                upcoming = pool.submit(self.load, names[i + 1]) if i + 1 < len(names) else None
                yield entity, current
                del current
        finally:
            if upcoming is not None:
                upcoming.cancel()
            pool.shutdown(wait=True)  # a read under way is not left running after a failed commit

    @property
    def total(self) -> int:
        return sum(sum(c.values()) for c in self.counts().values())


def _golden_id_sql(district_lit: str, entity: str, source: str, sourced_id: str) -> str:
    return (f"{lit(GOLDEN_PREFIX[entity] + '-')} || substr(md5({district_lit} || {lit('|' + entity + '|')} || "
            f"{source} || '|' || {sourced_id}), 1, 24)")


def compute_entity_changes(con: duckdb.DuckDBPyConnection, entity: str, incoming: str, stored: str,
                           *, district: str, deletes_missing: bool, district_schools: str | None = None) -> None:
    """Creates temp tables ``upserts__{entity}`` and ``deletes__{entity}`` in ``con``.

    ``incoming``: canonical rows of the sources being synced. ``stored``: keys on record for
    those sources (source, sourced_id, golden_id, content_hash, active, plus the reference
    columns cascades need). ``deletes_missing``: the incoming rows are complete sets per source.
    ``district_schools`` (orgs only): a relation ``(source, sourced_id, golden_id)`` of the schools
    that a source's ``schools`` mapping made district schools, with the golden id every source's copy
    of the school takes (``reconciliation/district_schools.py``). A copy on record under its source's
    own golden id (from before schools were shared) moves to it; one a reviewer linked elsewhere stays.
    """
    district_lit = lit(district)
    cols = ", ".join(f"i.{ident(c)}" for c in entities.columns(entity))
    own = _golden_id_sql(district_lit, entity, "i.source", "i.sourced_id")
    golden, shared_join, moved = f"coalesce(s.golden_id, {own})", "", "false"
    if district_schools is not None:
        shared = "ds.golden_id"
        shared_join = (f"LEFT JOIN {district_schools} AS ds ON ds.source = i.source AND ds.sourced_id = i.sourced_id "
                       "AND i.type = 'school'")
        moved = f"(ds.sourced_id IS NOT NULL AND s.golden_id = {own} AND s.golden_id <> {shared})"
        golden = (f"CASE WHEN ds.sourced_id IS NOT NULL AND (s.golden_id IS NULL OR {moved}) THEN {shared} "
                  f"ELSE {golden} END")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE upserts__{entity} AS
        SELECT {cols},
               {golden} AS golden_id,
               CASE WHEN s.sourced_id IS NULL THEN 'added'
                    WHEN NOT s.active THEN 'restored'
                    ELSE 'updated' END AS change,
               CASE WHEN {moved} AND s.content_hash = i.content_hash THEN 'golden_id' END AS changed_fields
        FROM {incoming} AS i
        LEFT JOIN {stored} AS s ON s.source = i.source AND s.sourced_id = i.sourced_id
        {shared_join}
        WHERE i.status = 'active' AND (s.sourced_id IS NULL OR NOT s.active OR s.content_hash <> i.content_hash
                                       OR {moved})
        ORDER BY i.source, i.sourced_id  -- key order: the store's B-tree takes sorted inserts far faster
    """)
    missing = (f"""
        UNION ALL
        SELECT s.source, s.sourced_id, s.golden_id, 'missing' AS reason
        FROM {stored} AS s
        WHERE s.active AND NOT EXISTS (SELECT 1 FROM {incoming} AS i WHERE i.source = s.source AND i.sourced_id = s.sourced_id)
    """ if deletes_missing else "")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE deletes__{entity} AS
        SELECT s.source, s.sourced_id, s.golden_id, 'tobedeleted' AS reason
        FROM {incoming} AS i JOIN {stored} AS s ON s.source = i.source AND s.sourced_id = i.sourced_id
        WHERE i.status = 'tobedeleted' AND s.active
        {missing}
    """)


def carry_golden_ids(con: duckdb.DuckDBPyConnection, entity: str, carried: str, *, district: str) -> None:
    """Records re-keyed after a change of their source's identity (``changes/rekey.py``) keep the golden
    id of their old key: a new key takes it where the record arrived with a golden id of its own (not
    one a district school shares)."""
    district_lit = lit(district)
    own = _golden_id_sql(district_lit, entity, "u.source", "u.sourced_id")
    con.execute(f"""
        UPDATE upserts__{entity} AS u SET golden_id = c.golden_id
        FROM {carried} AS c
        WHERE c.source = u.source AND c.sourced_id = u.sourced_id AND u.change = 'added' AND u.golden_id = {own}
    """)


def add_changed_fields(con: duckdb.DuckDBPyConnection, entity: str, previous: str) -> None:
    """Name the fields that differ for updated rows, given their ``previous`` stored values."""
    content = entities.content_columns(entity)
    names = ", ".join(f"CASE WHEN u.{ident(c)} IS DISTINCT FROM p.{ident(c)} THEN {lit(c)} END" for c in content)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE upserts__{entity} AS
        SELECT u.* EXCLUDE (changed_fields),
               CASE WHEN u.change = 'updated' THEN nullif(concat_ws(',', u.changed_fields, {names}), '')
               END AS changed_fields
        FROM upserts__{entity} AS u
        LEFT JOIN {previous} AS p ON p.source = u.source AND p.sourced_id = u.sourced_id
    """)


def cascade_deletes(con: duckdb.DuckDBPyConnection, stored: dict[str, str],
                    before: Callable[[str], None] | None = None) -> None:
    """Deleting a user or class ends what points at it: enrollments, roles, demographics, guardian links.
    ``before(child)`` is called before a deletion reaches ``child``'s records (its keys may be loaded then)."""
    for parent, dependents in entities.CASCADES.items():
        if parent not in stored or not con.execute(f"SELECT count(*) FROM deletes__{parent}").fetchone()[0]:
            continue
        for child, column in dependents:
            if child not in stored:
                continue
            if before is not None:
                before(child)
            con.execute(f"""
                INSERT INTO deletes__{child}
                SELECT s.source, s.sourced_id, s.golden_id, 'cascade'
                FROM {stored[child]} AS s
                JOIN deletes__{parent} AS d ON d.source = s.source AND d.sourced_id = s.{ident(column)}
                WHERE s.active
                  AND NOT EXISTS (SELECT 1 FROM deletes__{child} AS x WHERE x.source = s.source AND x.sourced_id = s.sourced_id)
                  AND NOT EXISTS (SELECT 1 FROM upserts__{child} AS u WHERE u.source = s.source AND u.sourced_id = s.sourced_id)
            """)
