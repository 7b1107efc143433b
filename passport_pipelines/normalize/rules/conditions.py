"""Custom filter conditions (field, operator, value; all/any) compiled to SQL predicates. A field is a
canonical column of the entity or a custom attribute (``normalize/rules/field_values.py``)."""

from __future__ import annotations

from passport_pipelines.config.rules import Condition, ConditionGroup
from passport_pipelines.normalize.rules.field_values import field_sql
from passport_pipelines.sql.blank_values import is_blank, not_blank
from passport_pipelines.sql.quoting import lit


def condition_sql(c: Condition, entity: str | None = None) -> str:
    col, v = field_sql(entity, c.field), c.value
    if c.op == "is_blank":
        return is_blank(col)
    if c.op == "not_blank":
        return not_blank(col)
    if c.op in ("in", "not_in"):
        values = ", ".join(lit(str(x)) for x in v)  # type: ignore[union-attr]
        return f"({col} {'NOT IN' if c.op == 'not_in' else 'IN'} ({values}))"
    text = lit(str(v).lower() if isinstance(v, bool) else str(v))
    if c.op == "contains":
        return f"contains({col}, {text})"
    if c.op == "starts_with":
        return f"starts_with({col}, {text})"
    if c.op == "ends_with":
        return f"suffix({col}, {text})"
    if c.op == "matches":
        return f"regexp_matches({col}, {text})"
    op = {"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}[c.op]
    return f"({col} {op} {text})"


def group_sql(g: ConditionGroup, entity: str | None = None) -> str:
    """A predicate on rows of ``entity``; a blank field makes a comparison unknown, which counts as
    not matching."""
    items = g.all if g.all is not None else g.any
    joiner = " AND " if g.all is not None else " OR "
    parts = [group_sql(x, entity) if isinstance(x, ConditionGroup) else condition_sql(x, entity) for x in items or []]
    return "(" + joiner.join(f"coalesce({p}, false)" for p in parts) + ")"
