"""From a validated CSV drop to canonical tables, through its schema's SQL models."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from passport_pipelines import settings
from passport_pipelines.model import entities
from passport_pipelines.normalize.sql_models import Refine, empty_canonical, run_models
from passport_pipelines.sql.quoting import ident
from passport_pipelines.validation.oneroster.validation import ValidatedDrop
from passport_pipelines.validation.schemas.registry import csv_schema


@dataclass(frozen=True)
class CsvTables:
    """A validated CSV drop's tables as normalization reads them: one table per file present in
    ``con``, named after the file, with each file's mode (bulk, delta, absent)."""

    con: duckdb.DuckDBPyConnection
    schema: str
    modes: dict[str, str]
    present: tuple[str, ...]

    @classmethod
    def of(cls, drop: ValidatedDrop) -> CsvTables:
        return cls(drop.con, drop.schema, drop.modes, tuple(drop.present))


def entity_modes(drop: CsvTables) -> dict[str, str]:
    """How each canonical entity was delivered: bulk (complete), delta, or absent (untouched)."""
    return csv_schema(drop.schema).entity_modes(drop.modes)


def _conform(drop: CsvTables, name: str, union: tuple[str, ...]) -> str:
    """A relation with every column the models may read (a file left out: no rows), plus extensions."""
    relation = f"raw__{name}"
    if name in drop.present:
        have = [row[0] for row in drop.con.execute(f"DESCRIBE {name}").fetchall()]
        cols = [(ident(c) if c in have else f"CAST(NULL AS VARCHAR) AS {ident(c)}") for c in union]
        cols += [ident(c) for c in have if c.startswith("metadata.")]
        drop.con.execute(f"CREATE OR REPLACE TEMP VIEW {relation} AS SELECT {', '.join(cols)} FROM {name}")
    else:
        cols = [f"CAST(NULL AS VARCHAR) AS {ident(c)}" for c in union]
        drop.con.execute(f"CREATE OR REPLACE TEMP VIEW {relation} AS SELECT {', '.join(cols)} WHERE false")
    return relation


def normalize_drop(drop: CsvTables, *, source: str, district: str, school_year: str,
                   refine: Refine | None = None) -> dict[str, str]:
    """Canonical entity -> relation in ``drop.con`` holding its rows. Entities the schema does
    not carry come out empty (their mode is absent, so nothing stored is deleted)."""
    definition = csv_schema(drop.schema)
    if definition.models is None:  # SSO credentials: no roster data at all
        return {entity: empty_canonical(drop.con, entity) for entity in entities.ENTITIES}
    sources = {name: _conform(drop, name, columns) for name, columns in definition.model_columns.items()}
    return run_models(
        drop.con,
        settings.transforms_dir() / definition.models,
        definition.models,
        sources,
        {"source": source, "district": district, "school_year": school_year},
        fill_missing=True,
        refine=refine,
    )
