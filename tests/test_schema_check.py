"""The canonical pandera models checked in DuckDB give pandera's own verdict, case for case."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import duckdb
import pandera.errors
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from passport_pipelines.model.entities import CANONICAL_MODELS
from passport_pipelines.model.frames import to_frame
from passport_pipelines.model.schema_check import _with_pandera, check_parquet
from passport_pipelines.normalize.rosters import normalize_source
from tests.canonical_tables import extract
from tests.conftest import write_integration
from tests.district_files import make_district


@pytest.fixture(scope="module")
def valid_tables(tmp_path_factory) -> dict[str, pa.Table]:
    """The canonical tables of a small valid district."""
    import os

    root = tmp_path_factory.mktemp("schema")
    old = {k: os.environ.get(k) for k in ("PASSPORT_HOME", "PASSPORT_DATABASE_URL")}
    os.environ["PASSPORT_HOME"] = str(root / "home")
    os.environ.pop("PASSPORT_DATABASE_URL", None)
    try:
        drop = make_district(root / "drop", students=15)
        path = write_integration(root, "lakeside", [{"name": "sis", "type": "csv", "path": str(drop)}])
        from passport_pipelines.config.loader import load_integration

        integration = load_integration(path)
        normalized = normalize_source(extract(integration, "sis"), district="lakeside", school_year="2025-2026",
                                      integration=integration)
        # Read with pyarrow: the tables own their memory (a DuckDB result's may not outlive its connection).
        return {e: pq.read_table(Path(normalized.folder) / f"{e}.parquet") for e in CANONICAL_MODELS}
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _pandera_cases(table: pa.Table, model) -> Counter:
    # to_frame gives the table's memory to pandas (self_destruct): hand it a copy.
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    try:
        model.validate(to_frame(pq.read_table(pa.BufferReader(sink.getvalue()))), lazy=True)
    except pandera.errors.SchemaErrors as exc:
        return Counter((None if c.column is None else str(c.column), str(c.check))
                       for c in exc.failure_cases.itertuples())
    return Counter()


def _duckdb_cases(table: pa.Table, model, tmp_path: Path) -> tuple[int, Counter]:
    path = tmp_path / "table.parquet"
    pq.write_table(table, path)
    con = duckdb.connect()
    try:
        total, cases = check_parquet(con, path, model, limit=10_000)
    finally:
        con.close()
    return total, Counter((c.column, c.check) for c in cases)


def _spoiled(table: pa.Table, column: str, value) -> pa.Table:
    """Every other row of ``column`` set to ``value``."""
    current = table.column(column).combine_chunks()
    if pa.types.is_string_view(current.type) or pa.types.is_large_string(current.type):
        current = current.cast(pa.string())
    every_other = pa.array([i % 2 == 0 for i in range(len(current))])
    spoiled = pc.if_else(every_other, pa.scalar(value, current.type), current)
    return table.set_column(table.schema.get_field_index(column), column, spoiled)


def _bad_values(model) -> list[tuple[str, object]]:
    """A failing value for every check and non-nullable column of the model."""
    out = []
    for name, column in model.to_schema().columns.items():
        if not column.nullable:
            out.append((name, None))
        for check in column.checks:
            if check.name == "isin":
                out.append((name, "Not One Of Them"))
            elif check.name == "str_matches":
                out.append((name, "2025/09/01"))
            elif check.name == "str_length":
                out.append((name, "x" * 300 if (check.statistics.get("max_value") or 0) < 300 else ""))
    return out


@pytest.mark.parametrize("entity", sorted(CANONICAL_MODELS))
def test_duckdb_and_pandera_find_the_same_failures(entity, valid_tables, tmp_path):
    model = CANONICAL_MODELS[entity]
    table = valid_tables[entity]
    if table.num_rows < 2:
        pytest.skip(f"the small district has no {entity} rows to spoil")
    assert _duckdb_cases(table, model, tmp_path) == (0, Counter()) == (len(_pandera_cases(table, model)), Counter())
    for column, value in _bad_values(model):
        spoiled = _spoiled(table, column, value)
        expected = _pandera_cases(spoiled, model)
        total, found = _duckdb_cases(spoiled, model, tmp_path)
        assert found == expected, (column, value)
        assert total == sum(expected.values())


def test_wrong_columns_are_reported_without_checking_rows(valid_tables, tmp_path):
    model = CANONICAL_MODELS["orgs"]
    table = valid_tables["orgs"].drop_columns(["name"]).append_column("nickname", pa.array(
        ["x"] * valid_tables["orgs"].num_rows))
    total, found = _duckdb_cases(table, model, tmp_path)
    assert found == Counter({(None, "column_in_dataframe"): 1, (None, "column_in_schema"): 1})


def test_a_model_with_a_check_duckdb_does_not_run_is_validated_by_pandera(valid_tables, tmp_path):
    import pandera.pandas as pandera_pandas

    class Picky(CANONICAL_MODELS["orgs"]):
        @pandera_pandas.check("name")
        def capitalized(cls, series):
            return series.str[0].str.isupper()

    table = _spoiled(valid_tables["orgs"], "name", "lower case school")
    path = tmp_path / "orgs.parquet"
    pq.write_table(table, path)
    con = duckdb.connect()
    total, cases = check_parquet(con, path, Picky)
    assert total >= 1 and {c.check for c in cases} == {"capitalized"}
    assert (total, cases) == _with_pandera(con, path, Picky, 100)
