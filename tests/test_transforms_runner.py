"""The dbt-like runner: models ordered by ref(), clear errors, district overrides."""

from __future__ import annotations

import shutil

import pytest

from passport_pipelines import settings
from passport_pipelines.normalize.data_errors import DataValueError
from passport_pipelines.normalize.sql_models import TransformError, execution_order, load_models, run_models
from passport_pipelines.sql.engine import connect


def _models(folder, **sql):
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in sql.items():
        (folder / f"{name}.sql").write_text(text, encoding="utf-8")
    return load_models(folder)


def test_models_run_after_the_models_they_ref(tmp_path):
    models = _models(tmp_path / "k", c="SELECT * FROM {{ ref('b') }}", b="SELECT * FROM {{ ref('a') }}",
                     a="SELECT 1 AS x")
    order = execution_order(models)
    assert order.index("a") < order.index("b") < order.index("c")


def test_cycles_and_unknown_refs_are_named(tmp_path):
    with pytest.raises(TransformError, match="cycle"):
        execution_order(_models(tmp_path / "c", a="SELECT * FROM {{ ref('b') }}", b="SELECT * FROM {{ ref('a') }}"))
    with pytest.raises(TransformError, match=r"x\.sql: ref\(\) to unknown model\(s\): nope"):
        execution_order(_models(tmp_path / "u", x="SELECT * FROM {{ ref('nope') }}"))


def test_a_canonical_model_must_yield_exactly_its_columns(tmp_path):
    folder = tmp_path / "oneroster_csv"
    _models(folder, orgs="SELECT 'o1' AS sourced_id FROM {{ source('oneroster_csv', 'orgs') }}")
    con = connect()
    con.execute("CREATE TABLE raw_orgs AS SELECT 'o1' AS sourcedId")
    with pytest.raises(TransformError, match=r"orgs\.sql: must select exactly the canonical orgs columns; missing: .*name"):
        run_models(con, folder, "oneroster_csv", {"orgs": "raw_orgs"}, {"source": "s", "district": "d", "school_year": "2025-2026"})


def test_a_model_failing_on_a_value_names_the_model_never_the_value(tmp_path):
    folder = tmp_path / "oneroster_csv"
    _models(folder, stg_ages="SELECT CAST(age AS INTEGER) AS age FROM {{ source('oneroster_csv', 'users') }}")
    con = connect()
    con.execute("CREATE TABLE raw_users AS SELECT * FROM (VALUES ('12'), ('kai.cook@example.org')) AS t(age)")
    with pytest.raises(DataValueError) as err:
        run_models(con, folder, "oneroster_csv", {"users": "raw_users"},
                   {"source": "s", "district": "d", "school_year": "2025-2026"})
    assert str(err.value) == ("model stg_ages.sql of oneroster_csv: a value could not be converted to INT32 "
                              "(the value is withheld: it is the district's data)")
    # A mistake in the SQL itself is about the model, not the data: DuckDB's message is kept.
    _models(folder, stg_ages="SELECT CAST(nope AS INTEGER) AS age FROM {{ source('oneroster_csv', 'users') }}")
    with pytest.raises(TransformError, match=r'stg_ages\.sql: Binder Error: .*"nope"'):
        run_models(con, folder, "oneroster_csv", {"users": "raw_users"},
                   {"source": "s", "district": "d", "school_year": "2025-2026"})


def test_a_district_can_override_a_model(tmp_path, monkeypatch):
    """PASSPORT_TRANSFORMS_DIR points at a copy where orgs.sql upper-cases names."""
    from passport_pipelines.normalize.csv_drops import CsvTables, normalize_drop
    from passport_pipelines.validation.oneroster.validation import validate_package

    custom = tmp_path / "transforms"
    shutil.copytree(settings.transforms_dir(), custom)
    orgs = custom / "oneroster_csv" / "orgs.sql"
    orgs.write_text(orgs.read_text().replace("    name,\n", "    upper(name) AS name,\n"))
    monkeypatch.setenv("PASSPORT_TRANSFORMS_DIR", str(custom))
    drop = validate_package(settings.REPO_ROOT / "demo" / "oneroster-1.1", "oneroster-1.1")
    out = normalize_drop(CsvTables.of(drop), source="sis", district="demo", school_year="2025-2026")
    names = [r[0] for r in drop.con.execute(f"SELECT name FROM {out['orgs']}").fetchall()]
    assert names and all(n == n.upper() for n in names)
