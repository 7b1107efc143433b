"""A drop checked as a sync would check it, up to the golden store, without writing anything.

``passport validate`` runs this: the same validation (with references resolved as on a first sync:
nothing on record, so a file the manifest declares ``absent`` offers no ids), the same mapping into
the canonical model by the schema's SQL models, the same canonical schema check (pandera), the same
row accounting and the same left-out part of the sync hold threshold. Its verdict is the sync's:
``fails`` (the sync fails validation), ``held`` (the sync waits for approval) or ``ok``.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from passport_pipelines.artifacts.table_sets import write_table_set
from passport_pipelines.changes.hold import left_out_reasons
from passport_pipelines.config.change_control import ChangeControl
from passport_pipelines.normalize.csv_drops import CsvTables, normalize_drop
from passport_pipelines.normalize.data_errors import DataValueError, values_withheld
from passport_pipelines.normalize.row_accounting import account_source, count_tobedeleted
from passport_pipelines.normalize.schema_failures import SchemaFailures, schema_failures
from passport_pipelines.validation.oneroster.validation import ValidatedDrop, validate_package
from passport_pipelines.validation.schemas.registry import csv_schema

FAILS, HELD, OK = "fails", "held", "ok"
DROP_IS_VALID, CANONICAL_SCHEMA, NORMALIZATION = "drop_is_valid", "canonical_schema", "normalization"
SOURCE = "validate"  # the source name the canonical rows carry; never stored
# The school year canonical rows carry when none is given: provenance only (a year is checked only when
# given), but the canonical schema wants one.
ANY_SCHOOL_YEAR = "1999-2000"


@dataclass
class DropCheck:
    drop: ValidatedDrop
    verdict: str = OK
    failed_checks: list[str] = field(default_factory=list)
    schema: SchemaFailures = field(default_factory=SchemaFailures)
    accounting: dict[str, dict] = field(default_factory=dict)  # normalize/row_accounting.py, per entity
    hold_reasons: list[str] = field(default_factory=list)
    error: str | None = None  # a value the canonical model cannot take (the sync's step fails the same way)


def nothing_on_record(schema: str):
    """``known_keys`` of a first sync: every file that is not complete in the drop offers no ids."""
    definition = csv_schema(schema)

    def known_keys(file: str, mode: str, wanted) -> pa.Array | None:
        entity = definition.file_entity.get(file)
        if entity is None or entity == "user_profiles" or mode == "bulk":
            return None
        return pa.array([], pa.string())
    return known_keys


def check_drop(path: Path, schema: str, *, school_year: str | None = None,
               control: ChangeControl | None = None) -> DropCheck:
    """Check the drop at ``path`` as the first full sync of a source of this ``schema`` would."""
    drop = validate_package(path, schema, known_keys=nothing_on_record(schema), school_year=school_year)
    result = DropCheck(drop)
    if not drop.ok:
        result.verdict, result.failed_checks = FAILS, [DROP_IS_VALID]
        return result
    definition = csv_schema(schema)
    with tempfile.TemporaryDirectory(prefix="passport-validate-") as tmp:
        try:
            with values_withheld("mapping to the canonical model"):
                outputs = normalize_drop(CsvTables.of(drop), source=SOURCE, district=SOURCE,
                                         school_year=school_year or ANY_SCHOOL_YEAR)
                rows = write_table_set(drop.con, Path(tmp), outputs)
        except DataValueError as exc:
            result.verdict, result.failed_checks, result.error = FAILS, [NORMALIZATION], str(exc)
            return result
        tobedeleted = count_tobedeleted(Path(tmp), list(rows))
        result.schema = schema_failures(SOURCE, tmp)
    result.accounting = account_source(entity_rows=rows, tobedeleted=tobedeleted, rules={}, file_rows=drop.rows,
                                       file_left_out=drop.left_out, file_entity=definition.file_entity)
    if result.schema.total:
        result.verdict, result.failed_checks = FAILS, [CANONICAL_SCHEMA]
        return result
    result.hold_reasons = left_out_reasons(result.accounting, {}, control or ChangeControl())
    result.verdict = HELD if result.hold_reasons else OK
    return result
