"""Data requirements: per entity type and field (a canonical column or a custom attribute), rows
missing a value are reported (kept) or skipped (left out, with what depends on them)."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from passport_pipelines.config.rules import target_of
from passport_pipelines.normalize.rules import left_out
from passport_pipelines.normalize.rules.field_values import field_sql
from passport_pipelines.sql.blank_values import is_blank
from passport_pipelines.sql.quoting import lit

SAMPLE = 10


@dataclass
class RequirementResult:
    entity_type: str
    field: str
    rule: str  # report_if_missing | skip_if_missing
    missing: int
    sample_ids: list[str] = field(default_factory=list)  # sourced ids, never values


def check_requirements(con: duckdb.DuckDBPyConnection, relations: dict[str, str],
                       requirements: dict[str, dict[str, str]]) -> list[RequirementResult]:
    results = []
    for key, fields in requirements.items():
        entity, roles = target_of(key)
        relation = relations[entity]
        scope = f"role IN ({', '.join(lit(r) for r in roles)}) AND " if roles else ""
        for name, rule in fields.items():
            missing = f"{scope}{is_blank(field_sql(entity, name))} AND {left_out.remaining(entity)}"
            # One scan per requirement: the missing rows' ids, counted, sampled and, to skip, left out.
            con.execute(f"CREATE OR REPLACE TEMP TABLE rules__missing AS "
                        f"SELECT sourced_id FROM {relation} WHERE {missing}")
            n, ids = con.execute(f"SELECT count(*), coalesce(min(sourced_id, {SAMPLE}), []) "
                                 f"FROM rules__missing").fetchone()
            if rule == "skip_if_missing":
                con.execute(f"INSERT INTO {left_out.REMOVED} SELECT {lit(entity)}, sourced_id FROM rules__missing")
            results.append(RequirementResult(key, name, rule, n, list(ids)))
    con.execute("DROP TABLE IF EXISTS rules__missing")
    return results
