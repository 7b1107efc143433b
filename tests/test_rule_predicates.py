"""The predicates filters and requirements are built of, run by DuckDB over small tables: what
counts as blank, and which grades a grade range keeps (one grade or a list of them)."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from passport_pipelines.config.rules import Condition, FilterRule
from passport_pipelines.model import entities
from passport_pipelines.normalize.rules import left_out
from passport_pipelines.normalize.rules.conditions import condition_sql
from passport_pipelines.normalize.rules.filters import apply_filters
from passport_pipelines.sql.blank_values import is_blank, not_blank, trimmed

# DuckDB's trim takes spaces away, nothing else: a tab or a newline is a value.
VALUES = ["", " ", "   ", " a", "a ", " a ", "a", "\t", None]
BLANK = ["", " ", "   ", None]


def _truth(con: duckdb.DuckDBPyConnection, predicate: str) -> list:
    con.register("vals", pa.table({"v": pa.array(VALUES, pa.string()), "i": pa.array(range(len(VALUES)))}))
    return [r[0] for r in con.execute(f"SELECT v FROM vals WHERE {predicate} ORDER BY i").fetchall()]


def test_blank_is_null_empty_or_spaces_only():
    con = duckdb.connect()
    assert _truth(con, is_blank("v")) == BLANK
    assert _truth(con, not_blank("v")) == [v for v in VALUES if v not in BLANK]
    assert _truth(con, condition_sql(Condition(field="v", op="is_blank"))) == BLANK
    assert _truth(con, condition_sql(Condition(field="v", op="not_blank"))) == [v for v in VALUES if v not in BLANK]


def test_trimmed_takes_the_spaces_around_a_value_and_nothing_else():
    con = duckdb.connect()
    con.register("vals", pa.table({"v": pa.array(VALUES, pa.string()), "i": pa.array(range(len(VALUES)))}))
    got = [r[0] for r in con.execute(f"SELECT {trimmed('v')} FROM vals ORDER BY i").fetchall()]
    assert got == ["", "", "", "a", "a", "a", "a", "\t", None]


def _users(con: duckdb.DuckDBPyConnection, grades: dict[str, str | None]) -> str:
    booleans = set(entities.boolean_columns("users"))
    rows = [{"sourced_id": sid, "grades": g, "role": "student", "status": "active", "enabled_user": True}
            for sid, g in grades.items()]
    con.register("rows", pa.table({c: pa.array([r.get(c) for r in rows], pa.bool_() if c in booleans else pa.string())
                                   for c in entities.columns("users")}))
    con.execute("CREATE TABLE users AS SELECT * FROM rows")
    return "users"


@pytest.mark.parametrize("grades, kept", [
    ({"one-in": "03", "one-out": "09", "list-in": "05,06", "list-out": "09,10", "none": None, "empty": ""},
     {"one-in", "list-in"}),
    ({"kg": "KG", "pk": "PK", "list-edge": "PK,KG", "twelve": "12"}, {"kg", "list-edge"}),
])
def test_grade_range_keeps_a_student_with_any_grade_in_the_range(grades, kept):
    con = duckdb.connect()
    left_out.start(con)
    relations = {"users": _users(con, grades)}
    rule = FilterRule.model_validate({"template": "grade_range", "from": "KG", "to": "08"})
    counts = apply_filters(con, relations, {"student": [rule]}, "2025-2026")
    removed = {r[0] for r in con.execute(f"SELECT id FROM {left_out.REMOVED}").fetchall()}
    assert set(grades) - removed == kept
    assert counts == {"student: grade_range": len(grades) - len(kept)}
