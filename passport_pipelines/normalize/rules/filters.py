"""Filter rules per entity type: ready-made templates and custom conditions, as SQL predicates of
what to leave out, applied one after another (each sees what the ones before left) so each rule's
count is its own."""

from __future__ import annotations

from datetime import date

import duckdb

from passport_pipelines.config.rules import ENTITY_TYPES, GRADE_ORDER, PERSON_FIELDS, PERSON_ROLES, FilterRule
from passport_pipelines.normalize.rules import left_out
from passport_pipelines.normalize.rules.conditions import group_sql
from passport_pipelines.normalize.rules.schools import source_school_ids
from passport_pipelines.sql.quoting import ident, lit, text_list


def as_of_day(rule: FilterRule, school_year: str) -> date:
    """The day current_terms_only looks at: the rule's, else today kept within the synced school
    year (a backfill of a past year looks at that year's last day)."""
    if rule.as_of:
        return rule.as_of
    start, end = int(school_year[:4]), int(school_year[5:])
    return min(max(date.today(), date(start, 7, 1)), date(end, 6, 30))


def _exclusion(kind: str, rule: FilterRule, school_year: str, sessions: str | None) -> str:
    """The predicate of the rows this rule leaves out (on the entity type's table)."""
    if rule.keep_if is not None:
        return f"NOT {group_sql(rule.keep_if, ENTITY_TYPES[kind])}"
    if rule.exclude_if is not None:
        return group_sql(rule.exclude_if, ENTITY_TYPES[kind])
    t = rule.template
    if t == "active_only":
        inactive = "status <> 'active'"
        return f"({inactive} OR enabled_user IS FALSE)" if ENTITY_TYPES[kind] == "users" else inactive
    if t == "grade_range":
        allowed = GRADE_ORDER[GRADE_ORDER.index(rule.from_grade):GRADE_ORDER.index(rule.to_grade) + 1]
        # A list is split only when it has more than one grade: most rows have one, and a list
        # per row is four times the cost of the lookup.
        outside = (f"NOT CASE WHEN contains(grades, ',') THEN list_has_any(string_split(grades, ','), "
                   f"{text_list(allowed)}) ELSE list_contains({text_list(allowed)}, grades) END")
        # A student without a grade is not in the range; a course or class without one is kept.
        return f"(grades IS NULL OR {outside})" if kind == "student" else f"(grades IS NOT NULL AND {outside})"
    if t == "exclude_schools":
        schools = source_school_ids(rule.schools or [])  # the rules see the source's own school ids
        if ENTITY_TYPES[kind] == "users":
            return f"(org_sourced_ids IS NOT NULL AND list_has_all({schools}, string_split(org_sourced_ids, ',')))"
        column = "org_sourced_id" if kind == "course" else "school_sourced_id"
        return f"list_contains({schools}, {column})"
    if t == "exclude_test_accounts":
        pattern = lit(rule.pattern)
        return "(" + " OR ".join(f"regexp_matches(coalesce({ident(f)}, ''), {pattern})" for f in PERSON_FIELDS) + ")"
    if t == "current_terms_only":
        day = lit(as_of_day(rule, school_year).isoformat())
        current = f"(start_date <= {day} AND end_date >= {day})"
        if kind == "calendar":
            return f"NOT {current}"
        return (f"NOT list_has_any(string_split(term_sourced_ids, ','), "
                f"(SELECT coalesce(list(sourced_id), []::VARCHAR[]) FROM {sessions} "
                f"WHERE {current} AND {left_out.remaining('academic_sessions')}))")
    raise ValueError(f"unknown filter template {t!r}")


def apply_filters(con: duckdb.DuckDBPyConnection, relations: dict[str, str], filters: dict[str, list[FilterRule]],
                  school_year: str) -> dict[str, int]:
    """Apply every rule in order; returns rows left out per rule ("student: active_only").

    The rules of one table are one scan, whatever entity types they are written for (students,
    teachers and contacts are all users, told apart by role): a row is credited to the first rule
    that leaves it out, which is what applying them one after another would count. Tables are
    filtered in the order their types first appear, so a class filter written after a calendar
    filter sees the terms it left."""
    by_entity: dict[str, list[tuple[str, str, FilterRule]]] = {}
    for kind, rules in filters.items():
        for rule in rules:
            by_entity.setdefault(ENTITY_TYPES[kind], []).append((kind, f"{kind}: {rule.label}", rule))
    counts = {f"{kind}: {rule.label}": 0 for kind, rules in filters.items() for rule in rules}
    sessions = relations.get("academic_sessions")
    for entity, numbered in by_entity.items():
        # Grouped by entity type, each group of people under its role test: a CASE branch evaluates
        # only the rows that reach it, so a contact's rules are never computed for a student.
        groups: dict[str, list[str]] = {}
        for number, (kind, _, rule) in enumerate(numbered):
            predicate = _exclusion(kind, rule, school_year, sessions)
            groups.setdefault(kind, []).append(f"WHEN coalesce({predicate}, false) THEN {number}")
        branches = [f"WHEN role IN ({', '.join(lit(r) for r in PERSON_ROLES[kind])}) THEN CASE {' '.join(whens)} END"
                    if kind in PERSON_ROLES else " ".join(whens) for kind, whens in groups.items()]
        rule_of = f"CASE {' '.join(branches)} END"
        con.execute(f"""CREATE OR REPLACE TEMP TABLE rules__filtered AS
            SELECT sourced_id, {rule_of} AS rule FROM {relations[entity]}
            WHERE {left_out.remaining(entity)} AND rule IS NOT NULL""")
        con.execute(f"INSERT INTO {left_out.REMOVED} SELECT {lit(entity)}, sourced_id FROM rules__filtered")
        for number, n in con.execute("SELECT rule, count(*) FROM rules__filtered GROUP BY rule").fetchall():
            counts[numbered[number][1]] += n
    con.execute("DROP TABLE IF EXISTS rules__filtered")
    return counts
