"""The canonical pandera models, checked where the tables are: in DuckDB, over the Parquet files.

The pandera ``DataFrameModel`` classes of ``canonical.py`` stay the one definition of the model.
Validating them with pandera's pandas backend means loading every table into pandas first: at a
million students that took 10 s of the normalization stage (and 4 GB). Here each model's schema
(``Model.to_schema()``: strictness, column dtypes, nullability, and the checks ``isin``,
``str_matches`` and ``str_length``) is turned into one DuckDB aggregate per table, which counts the
failures of every column and check in a single scan; only when something fails are the first cases
fetched, with their row numbers. A model using a check this module does not know is validated by
pandera itself, so a new kind of check can never be skipped. ``tests/test_schema_check.py`` holds
both ways to the same verdicts on the same data.

Failure cases are reported as pandera reports them: column, check (pandera's own name for it, e.g.
``isin(['active', 'tobedeleted'])``), the failing value, and the row's index in the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandera.errors
import pandera.pandas as pa

from passport_pipelines.model.frames import to_frame
from passport_pipelines.sql.quoting import ident, lit

# pandas dtypes of the models, as DuckDB types the Parquet files must have.
_DUCKDB_TYPES = {"string[pyarrow]": "VARCHAR", "boolean": "BOOLEAN", "Int64": "BIGINT", "Float64": "DOUBLE"}
_SUPPORTED = {"isin", "str_matches", "str_length"}


@dataclass(frozen=True)
class FailureCase:
    column: str
    check: str
    failure_case: str | None
    index: int | None


def _failing(check, col: str) -> str:
    """The SQL condition under which a (non-null) value fails ``check``."""
    stats = check.statistics
    if check.name == "isin":
        return f"{col} NOT IN ({', '.join(lit(str(v)) for v in stats['allowed_values'])})"
    if check.name == "str_matches":
        # pandera uses re.match: anchored at the start; the models' patterns anchor both ends.
        return f"NOT regexp_matches({col}, {lit(str(stats['pattern']))})"
    low, high, exact = stats.get("min_value"), stats.get("max_value"), stats.get("exact_value")
    parts = []
    if exact is not None:
        parts.append(f"length({col}) <> {int(exact)}")
    if low is not None:
        parts.append(f"length({col}) < {int(low)}")
    if high is not None:
        parts.append(f"length({col}) > {int(high)}")
    return " OR ".join(parts) or "FALSE"


def _conditions(schema: pa.DataFrameSchema) -> list[tuple[str, str, str]]:
    """(column, check name as pandera reports it, failing condition) for every check of the schema."""
    out = []
    for name, column in schema.columns.items():
        col = ident(name)
        if not column.nullable:
            out.append((name, "not_nullable", f"{col} IS NULL"))
        for check in column.checks:
            out.append((name, check.error or check.name, f"{col} IS NOT NULL AND ({_failing(check, col)})"))
        if column.unique:
            out.append((name, "field_uniqueness",
                        f"{col} IS NOT NULL AND count(*) OVER (PARTITION BY {col}) > 1"))
    return out


def _duckdb_executable(schema: pa.DataFrameSchema) -> bool:
    return (not schema.checks and all(
        str(c.dtype) in _DUCKDB_TYPES and all(ch.name in _SUPPORTED for ch in c.checks)
        for c in schema.columns.values()))


def check_parquet(con: duckdb.DuckDBPyConnection, path: Path, model: type[pa.DataFrameModel],
                  limit: int = 100, totals: dict[str, int] | None = None) -> tuple[int, list[FailureCase]]:
    """How many failure cases the table at ``path`` has against ``model``, and the first ``limit``.
    ``totals``, when given, receives the failure cases per ``column: check``."""
    schema = model.to_schema()
    if not _duckdb_executable(schema):
        total, found = _with_pandera(con, path, model, limit)
        if totals is not None and found:  # pandera's own run: per-check totals of the cases it kept
            for case in found:
                key = f"{case.column or '-'}: {case.check}"
                totals[key] = totals.get(key, 0) + 1
        return total, found
    relation = f"read_parquet({lit(str(path))}, file_row_number = true)"
    described = {r[0]: r[1] for r in con.execute(
        f"DESCRIBE SELECT * EXCLUDE (file_row_number) FROM {relation}").fetchall()}
    cases: list[FailureCase] = []
    for name, column in schema.columns.items():
        if name not in described:
            cases.append(FailureCase(None, "column_in_dataframe", name, None))
        elif described[name] != _DUCKDB_TYPES[str(column.dtype)]:
            cases.append(FailureCase(name, f"dtype('{column.dtype}')", described[name], None))
    if schema.strict:
        cases += [FailureCase(None, "column_in_schema", extra, None) for extra in described if extra not in schema.columns]
    if cases:  # the columns themselves are wrong: the row checks would not mean much
        if totals is not None:
            for case in cases:
                key = f"{case.column or '-'}: {case.check}"
                totals[key] = totals.get(key, 0) + 1
        return len(cases), cases[:limit]
    conditions = _conditions(schema)
    if not conditions:
        return 0, []
    uses_window = any("OVER" in cond for _, _, cond in conditions)
    source = f"(SELECT *, {', '.join(f'({cond}) AS _f{i}' for i, (_, _, cond) in enumerate(conditions))} " \
             f"FROM {relation})" if uses_window else None
    if source:
        counts = con.execute(f"SELECT {', '.join(f'count(*) FILTER (WHERE _f{i})' for i in range(len(conditions)))} "
                             f"FROM {source}").fetchone()
    else:
        counts = con.execute(f"SELECT {', '.join(f'count(*) FILTER (WHERE {cond})' for _, _, cond in conditions)} "
                             f"FROM {relation}").fetchone()
    total = int(sum(counts))
    if totals is not None:
        for (name, check, _), n in zip(conditions, counts):
            if n:
                totals[f"{name}: {check}"] = totals.get(f"{name}: {check}", 0) + int(n)
    for i, ((name, check, cond), n) in enumerate(zip(conditions, counts)):
        if not n or len(cases) >= limit:
            continue
        where = f"_f{i}" if source else f"({cond})"
        rows = con.execute(f"SELECT CAST({ident(name)} AS VARCHAR), file_row_number FROM {source or relation} "
                           f"WHERE {where} ORDER BY file_row_number LIMIT {limit - len(cases)}").fetchall()
        cases += [FailureCase(name, check, value, int(index)) for value, index in rows]
    return total, cases


def _with_pandera(con: duckdb.DuckDBPyConnection, path: Path, model: type[pa.DataFrameModel],
                  limit: int) -> tuple[int, list[FailureCase]]:
    frame = to_frame(con.execute(f"SELECT * FROM read_parquet({lit(str(path))})").to_arrow_table())
    try:
        model.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        found = exc.failure_cases
        return len(found), [
            FailureCase(None if row.column is None else str(row.column), str(row.check),
                        None if row.failure_case is None else str(row.failure_case),
                        int(row.index) if row.index is not None and str(row.index).isdigit() else None)
            for row in found.head(limit).itertuples()]
    return 0, []
