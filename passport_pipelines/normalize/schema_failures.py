"""The canonical schema check: every canonical table a source's normalization wrote against its
pandera model (executed in DuckDB, ``model/schema_check.py``), the same for ``passport sync`` and
``passport validate``. Values of personal columns are never kept."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from passport_pipelines.model.entities import CANONICAL_MODELS
from passport_pipelines.model.schema_check import check_parquet

# Canonical columns holding personal data: their failing values are never put in metadata.
PERSONAL = frozenset({
    "given_name", "family_name", "middle_name", "preferred_given_name", "preferred_family_name", "username",
    "email", "sms", "phone", "identifier", "state_id", "user_ids", "birth_date", "city_of_birth",
})
LIMIT = 100


@dataclass
class SchemaFailures:
    total: int = 0
    totals: dict[str, int] = field(default_factory=dict)  # "entity.column: check" -> failure cases
    # The first cases: source, entity, column, check, failure_case (withheld when personal), index (row).
    records: list[dict] = field(default_factory=list)


def schema_failures(source: str, folder: str | Path) -> SchemaFailures:
    out = SchemaFailures()
    con = duckdb.connect()
    try:
        for entity, model in CANONICAL_MODELS.items():
            per_check: dict[str, int] = {}
            n, cases = check_parquet(con, Path(folder) / f"{entity}.parquet", model, limit=LIMIT - len(out.records),
                                     totals=per_check)
            out.total += n
            out.totals.update({f"{entity}.{key}": count for key, count in per_check.items()})
            out.records += [{
                "source": source, "entity": entity, "column": case.column or "", "check": case.check,
                "failure_case": "<withheld>" if case.column in PERSONAL else str(case.failure_case)[:40],
                "index": case.index,
            } for case in cases]
    finally:
        con.close()
    return out
