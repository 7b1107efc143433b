"""Rows the rules leave out, and everything that depends on them.

Nothing is deleted while the rules run: every removal is recorded as (entity, sourced id) in
``rules__removed``, rules see the rows not yet recorded, and the final projection
(``normalize/rules/finish.py``) leaves the recorded rows out in one pass per table. A cascade records the
rows that point at a removed record through a required reference (an enrollment of a removed
class, the demographics of a removed student), and rows whose list reference (a user's orgs, a
class's terms) would be left empty. Only ids the rules removed count: a delta drop's references
to records already on record stay untouched.
"""

from __future__ import annotations

import duckdb

from passport_pipelines.sql.quoting import ident, lit

REMOVED = "rules__removed"

# Required references: the row makes no sense without the record it points at.
CASCADE_SCALAR: dict[str, tuple[tuple[str, str], ...]] = {
    "courses": (("org_sourced_id", "orgs"),),
    "classes": (("course_sourced_id", "courses"), ("school_sourced_id", "orgs")),
    "roles": (("user_sourced_id", "users"), ("org_sourced_id", "orgs")),
    "enrollments": (("class_sourced_id", "classes"), ("school_sourced_id", "orgs"), ("user_sourced_id", "users")),
    "demographics": (("sourced_id", "users"),),
    "agents": (("user_sourced_id", "users"), ("agent_sourced_id", "users")),
    # The gradebook of a class or student left out goes with them (results are student data).
    "line_items": (("class_sourced_id", "classes"),),
    "results": (("line_item_sourced_id", "line_items"), ("student_sourced_id", "users")),
    "score_scales": (("class_sourced_id", "classes"), ("course_sourced_id", "courses")),
    "line_item_score_scales": (("line_item_sourced_id", "line_items"), ("score_scale_sourced_id", "score_scales")),
    "result_score_scales": (("result_sourced_id", "results"), ("score_scale_sourced_id", "score_scales")),
    "line_item_learning_objective_ids": (("line_item_sourced_id", "line_items"),),
    "result_learning_objective_ids": (("result_sourced_id", "results"),),
    "class_resources": (("class_sourced_id", "classes"),),
    "course_resources": (("course_sourced_id", "courses"),),
    "user_resources": (("user_sourced_id", "users"),),
}
# List references: removed ids leave the list; a row whose list is left empty is left out.
CASCADE_LIST: dict[str, tuple[tuple[str, str], ...]] = {
    "users": (("org_sourced_ids", "orgs"),),
    "classes": (("term_sourced_ids", "academic_sessions"),),
}

# Every check, a table after the tables it points at: one round settles a chain (a term gone, its
# classes' term lists emptied, their enrollments), so a million-row table is not scanned again.
_ORDER = ("courses", "classes", "users", "roles", "enrollments", "demographics", "agents", "line_items", "results",
          "score_scales", "line_item_score_scales", "result_score_scales", "line_item_learning_objective_ids",
          "result_learning_objective_ids", "class_resources", "course_resources", "user_resources")
_CHECKS = [(e, refs, is_list) for e in _ORDER for refs, is_list in
           ((CASCADE_SCALAR.get(e), False), (CASCADE_LIST.get(e), True)) if refs]


def start(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE OR REPLACE TEMP TABLE {REMOVED} (entity VARCHAR, id VARCHAR)")


def removed_ids(entity: str) -> str:
    return f"(SELECT id FROM {REMOVED} WHERE entity = {lit(entity)})"


def remaining(entity: str, alias: str = "") -> str:
    """A predicate: the row has not been left out yet."""
    column = f"{alias}.sourced_id" if alias else "sourced_id"
    return f"{column} NOT IN {removed_ids(entity)}"


def remove_where(con: duckdb.DuckDBPyConnection, relation: str, entity: str, predicate: str) -> int:
    """Leave out the remaining rows of ``relation`` matching ``predicate``; returns how many."""
    before = con.execute(f"SELECT count(*) FROM {REMOVED}").fetchone()[0]
    # The matches first, then those not left out yet: "not yet" is looked up for the few
    # matching rows, not for each of a million-row table's rows.
    con.execute(f"CREATE OR REPLACE TEMP TABLE rules__matched AS SELECT sourced_id FROM {relation} "
                f"WHERE coalesce(({predicate}), false)")
    con.execute(f"INSERT INTO {REMOVED} SELECT {lit(entity)}, sourced_id FROM rules__matched WHERE {remaining(entity)}")
    con.execute("DROP TABLE rules__matched")
    return con.execute(f"SELECT count(*) FROM {REMOVED}").fetchone()[0] - before


def removed_lists(con: duckdb.DuckDBPyConnection) -> str:
    """A one-row table of the removed ids of the list-referenced entities, for lambdas to use
    (a lambda cannot hold a subquery)."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE rules__gone AS SELECT
        (SELECT coalesce(list(id), []::VARCHAR[]) FROM {REMOVED} WHERE entity = 'orgs') AS orgs,
        (SELECT coalesce(list(id), []::VARCHAR[]) FROM {REMOVED} WHERE entity = 'academic_sessions')
            AS academic_sessions""")
    return "rules__gone"


def pruned_list(column: str, target: str, gone: str = "g") -> str:
    return f"list_filter(string_split({column}, ','), x -> NOT list_contains({gone}.{target}, x))"


def _count(con: duckdb.DuckDBPyConnection, entity: str | None = None) -> int:
    where = f" WHERE entity = {lit(entity)}" if entity else ""
    return con.execute(f"SELECT count(*) FROM {REMOVED}{where}").fetchone()[0]


def cascade(con: duckdb.DuckDBPyConnection, relations: dict[str, str], seen: dict[str, int]) -> dict[str, int]:
    """Leave out what depends on removed rows, until nothing more goes; returns rows per entity.
    A reference is looked at again only when the table it points at lost rows since it was last
    looked at: a million-student district's enrollments are scanned once per cascade, for the
    references that changed. ``seen`` (removed rows of each target when its dependents were last
    checked) carries that over from one cascade to the next: start each run with an empty dict."""
    counts: dict[str, int] = {}
    while True:
        fresh = 0
        for entity, refs, is_list in _CHECKS:
            if entity not in relations:
                continue
            now = {t: _count(con, t) for _, t in refs}
            # Only references to a table that lost rows since the last look are probed.
            fresh_refs = [(col, t) for col, t in refs if now[t] != seen.get(f"{entity}<-{t}", 0)]
            if not fresh_refs:
                continue
            seen.update({f"{entity}<-{t}": n for t, n in now.items()})
            if is_list:
                n = sum(_prune_emptied(con, relations[entity], entity, col, target) for col, target in fresh_refs)
            else:
                pred = " OR ".join(f"{ident(col)} IN {removed_ids(target)}" for col, target in fresh_refs)
                n = remove_where(con, relations[entity], entity, pred)
            counts[entity] = counts.get(entity, 0) + n
            fresh += n
        if fresh == 0:
            return {k: v for k, v in counts.items() if v}


def _prune_emptied(con: duckdb.DuckDBPyConnection, relation: str, entity: str, col: str, target: str) -> int:
    """Leave out rows whose list would be left empty once removed ids are taken out of it."""
    gone = removed_lists(con)
    c = f"t.{ident(col)}"
    emptied = f"{c} IS NOT NULL AND len({pruned_list(c, target)}) = 0"
    before = _count(con)
    con.execute(f"INSERT INTO {REMOVED} SELECT {lit(entity)}, t.sourced_id FROM {relation} AS t, "
                f"{gone} AS g WHERE {remaining(entity, 't')} AND {emptied}")
    return _count(con) - before
