"""The privacy shield: what one destination may see of the delivered golden data.

Applied in DuckDB to the delivered frames (golden ids already in place), per destination:

- **schools**: only the allowed schools, the classes and enrollments at them, the courses of kept
  orgs, the people whose orgs include an allowed school (with their org lists cut to kept orgs) and
  the guardians of kept people, their demographics, roles and guardian links. District-level orgs
  stay; departments of a school not allowed go. Academic sessions are not per school and all stay. Of
  the gradebook: the line items of kept classes, their results of kept people, the score scales of kept
  classes (or, without a class, of kept orgs), the links and learning objectives of what is kept, and
  the resources given to kept classes, courses and people; categories and resources themselves are not
  per school and all stay.
- **entities**: an entity not allowed is left out and declared ``absent`` in the manifest. Gradebook and
  resources entities are allowed only when listed: results are student data.
- **attributes**: an attribute not allowed is blank in every row. Where the format requires a value it
  is masked instead: names and titles read ``withheld``, a username reads the user's sourcedId.
  Ids, references, types and dates the format requires cannot be withheld (``config/destinations.py``).
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa

from passport_pipelines.config.destinations import PrivacyShield
from passport_pipelines.model import entities
from passport_pipelines.model.frames import to_frame
from passport_pipelines.sql.quoting import ident, lit
from passport_pipelines.validation.oneroster.spec import FILE_ENTITY

MASK = "withheld"
# Required by OneRoster, so masked rather than blank: entity -> column -> SQL of the masked value.
MASKS = {
    "orgs": {"name": lit(MASK)},
    "academic_sessions": {"title": lit(MASK)},
    "courses": {"title": lit(MASK)},
    "classes": {"title": lit(MASK)},
    "users": {"given_name": lit(MASK), "family_name": lit(MASK), "username": "sourced_id"},
    "categories": {"title": lit(MASK)},
    "line_items": {"title": lit(MASK)},
    "score_scales": {"title": lit(MASK)},
}
ENTITY_FILE = {entity: file for file, entity in FILE_ENTITY.items()}

# Per entity, the rows a school list keeps (tables: the shielded frames as views, kept_orgs, allowed).
_BY_SCHOOL = {
    "orgs": "SELECT * FROM orgs WHERE sourced_id IN (SELECT id FROM kept_orgs)",
    "courses": "SELECT * FROM courses WHERE org_sourced_id IN (SELECT id FROM kept_orgs)",
    "classes": "SELECT * FROM classes WHERE school_sourced_id IN (SELECT id FROM allowed)",
    "enrollments": "SELECT * FROM enrollments WHERE school_sourced_id IN (SELECT id FROM allowed) "
                   "AND class_sourced_id IN (SELECT sourced_id FROM classes WHERE school_sourced_id IN "
                   "(SELECT id FROM allowed)) AND user_sourced_id IN (SELECT id FROM kept_users)",
    "users": "SELECT u.* REPLACE (nullif(array_to_string(list_filter(string_split(coalesce(u.org_sourced_ids, ''), "
             "','), o -> list_contains(k.ids, o)), ','), '') AS org_sourced_ids) "
             "FROM users AS u, (SELECT list(id) AS ids FROM kept_orgs) AS k "
             "WHERE u.sourced_id IN (SELECT id FROM kept_users)",
    "demographics": "SELECT * FROM demographics WHERE sourced_id IN (SELECT id FROM kept_users)",
    "roles": "SELECT * FROM roles WHERE user_sourced_id IN (SELECT id FROM kept_users) "
             "AND org_sourced_id IN (SELECT id FROM kept_orgs)",
    "agents": "SELECT * FROM agents WHERE user_sourced_id IN (SELECT id FROM kept_users) "
              "AND agent_sourced_id IN (SELECT id FROM kept_users)",
    "line_items": "SELECT * FROM line_items WHERE sourced_id IN (SELECT id FROM kept_line_items)",
    "results": "SELECT * FROM results WHERE sourced_id IN (SELECT id FROM kept_results)",
    "score_scales": "SELECT * FROM score_scales WHERE sourced_id IN (SELECT id FROM kept_score_scales)",
    "line_item_score_scales": "SELECT * FROM line_item_score_scales WHERE line_item_sourced_id IN "
                              "(SELECT id FROM kept_line_items) AND score_scale_sourced_id IN "
                              "(SELECT id FROM kept_score_scales)",
    "result_score_scales": "SELECT * FROM result_score_scales WHERE result_sourced_id IN (SELECT id FROM kept_results) "
                           "AND score_scale_sourced_id IN (SELECT id FROM kept_score_scales)",
    "line_item_learning_objective_ids": "SELECT * FROM line_item_learning_objective_ids WHERE line_item_sourced_id IN "
                                        "(SELECT id FROM kept_line_items)",
    "result_learning_objective_ids": "SELECT * FROM result_learning_objective_ids WHERE result_sourced_id IN "
                                     "(SELECT id FROM kept_results)",
    "class_resources": "SELECT * FROM class_resources WHERE class_sourced_id IN (SELECT id FROM kept_classes)",
    "course_resources": "SELECT * FROM course_resources WHERE course_sourced_id IN "
                        "(SELECT sourced_id FROM courses WHERE org_sourced_id IN (SELECT id FROM kept_orgs))",
    "user_resources": "SELECT * FROM user_resources WHERE user_sourced_id IN (SELECT id FROM kept_users) "
                      "AND (class_sourced_id IS NULL OR class_sourced_id IN (SELECT id FROM kept_classes)) "
                      "AND (org_sourced_id IS NULL OR org_sourced_id IN (SELECT id FROM kept_orgs))",
}
# The gradebook rows a school list keeps, as views over what the shield allows (``NEEDS`` in
# config/destinations.py guarantees the tables each reads): entity -> (view, its SQL), in order.
_KEPT = {
    "classes": ("kept_classes", "SELECT sourced_id AS id FROM classes WHERE school_sourced_id IN "
                                "(SELECT id FROM allowed)"),
    "line_items": ("kept_line_items", "SELECT sourced_id AS id FROM line_items "
                                      "WHERE class_sourced_id IN (SELECT id FROM kept_classes)"),
    "results": ("kept_results", "SELECT sourced_id AS id FROM results WHERE line_item_sourced_id IN "
                                "(SELECT id FROM kept_line_items) AND student_sourced_id IN (SELECT id FROM kept_users)"),
    "score_scales": ("kept_score_scales", "SELECT sourced_id AS id FROM score_scales WHERE "
                                          "class_sourced_id IN (SELECT id FROM kept_classes) OR "
                                          "(class_sourced_id IS NULL AND org_sourced_id IN (SELECT id FROM kept_orgs))"),
}


def shield_absent(shield: PrivacyShield) -> frozenset[str]:
    """The OneRoster files the shield withholds: declared absent in the destination's manifest."""
    return frozenset(ENTITY_FILE[e] for e in entities.ENTITIES if not shield.allows(e) and e in ENTITY_FILE)


def shield_frames(frames: dict[str, pd.DataFrame], shield: PrivacyShield, *,
                  org_keys: pa.Table | None = None) -> tuple[dict[str, pd.DataFrame], frozenset[str]]:
    """The frames a destination may receive, and the OneRoster files to declare absent. ``org_keys``
    (source, sourced_id, golden_id of the orgs) lets ``schools`` name a school by its id in a source
    or in the district's school list, besides its delivered (golden) id or its identifier."""
    kept = {e: f for e, f in frames.items() if shield.allows(e)}
    absent = shield_absent(shield) & frozenset(ENTITY_FILE[e] for e in frames if e in ENTITY_FILE)
    if shield.schools is None and not any(shield.withheld(e) for e in kept):
        return kept, absent
    con = duckdb.connect()
    try:
        # Registered as Arrow tables: DuckDB's scan of a pandas frame of Arrow-backed strings goes
        # through a pandas attribute that is deprecated (a FutureWarning per table, in every sync).
        for entity, frame in kept.items():
            con.register(entity, pa.Table.from_pandas(frame, preserve_index=False))
        out = dict(kept)
        if shield.schools is not None and "orgs" in kept:  # without orgs nothing per school is delivered
            out.update(_by_school(con, kept, shield.schools, org_keys))
        for entity, frame in list(out.items()):
            withheld = [c for c in shield.withheld(entity) if c in frame.columns]
            if withheld:
                con.register(f"s__{entity}", pa.Table.from_pandas(frame, preserve_index=False))
                masks = MASKS.get(entity, {})
                replace = ", ".join(f"{masks.get(c, 'NULL')}::VARCHAR AS {ident(c)}" for c in withheld)
                out[entity] = to_frame(con.execute(f"SELECT * REPLACE ({replace}) FROM s__{entity}").to_arrow_table())
        return out, absent
    finally:
        con.close()


def _by_school(con: duckdb.DuckDBPyConnection, frames: dict[str, pd.DataFrame], schools: list[str],
               org_keys: pa.Table | None) -> dict[str, pd.DataFrame]:
    con.register("wanted", pa.table({"id": pa.array(schools, pa.string())}))
    keys = org_keys if org_keys is not None else pa.table({"sourced_id": pa.array([], pa.string()),
                                                           "golden_id": pa.array([], pa.string())})
    con.register("org_keys", keys.select(["sourced_id", "golden_id"]))
    con.execute("""
        CREATE TEMP TABLE allowed AS
        SELECT sourced_id AS id FROM orgs WHERE type = 'school' AND (
            sourced_id IN (SELECT id FROM wanted) OR identifier IN (SELECT id FROM wanted)
            OR sourced_id IN (SELECT golden_id FROM org_keys WHERE sourced_id IN (SELECT id FROM wanted)))""")
    # Orgs that are not schools stay, but not the departments of a school that is not allowed.
    con.execute("""
        CREATE TEMP TABLE kept_orgs AS
        SELECT sourced_id AS id FROM orgs WHERE sourced_id IN (SELECT id FROM allowed)
           OR (type <> 'school' AND (parent_sourced_id IS NULL OR parent_sourced_id NOT IN
               (SELECT sourced_id FROM orgs WHERE type = 'school' AND sourced_id NOT IN (SELECT id FROM allowed))))""")
    has_agents = "agents" in frames
    con.execute(f"""
        CREATE TEMP TABLE kept_users AS
        WITH at_school AS (
            SELECT sourced_id AS id FROM users
            WHERE list_has_any(string_split(coalesce(org_sourced_ids, ''), ','), (SELECT list(id) FROM allowed)))
        SELECT id FROM at_school
        {"UNION SELECT agent_sourced_id FROM agents WHERE user_sourced_id IN (SELECT id FROM at_school)"
         if has_agents else ""}""")
    for entity, (view, sql) in _KEPT.items():
        if entity in frames:
            con.execute(f"CREATE TEMP VIEW {view} AS {sql}")
    return {entity: to_frame(con.execute(sql).to_arrow_table())
            for entity, sql in _BY_SCHOOL.items() if entity in frames}
