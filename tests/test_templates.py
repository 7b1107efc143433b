"""passport templates: header-only CSVs and a column guide for every schema, usable as they come."""

from __future__ import annotations

import csv
import io
import zipfile

import dagster as dg
import pytest
from click.testing import CliRunner

from passport_pipelines.cli.main import cli
from passport_pipelines.store.golden_store import GoldenStore
from passport_pipelines.validation.oneroster.validation import validate_package
from passport_pipelines.validation.schemas.registry import SCHEMAS
from tests.conftest import write_integration
from tests.csv_drops import PEOPLE, SCHOOLS
from tests.sync_harness import run_sync


def _template(tmp_path, schema: str):
    out = tmp_path / f"{schema}.zip"
    result = CliRunner().invoke(cli, ["templates", "--schema", schema, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("schema", list(SCHEMAS))
def test_every_schema_has_a_template_that_validates_empty(tmp_path, schema):
    out = _template(tmp_path, schema)
    definition = SCHEMAS[schema]
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        expected = {spec.filename for spec in definition.files.values()} | {"README.md"}
        assert names == expected | ({"manifest.csv"} if definition.has_manifest else set())
        guide = zf.read("README.md").decode()
        for spec in definition.files.values():
            [header] = list(csv.reader(io.StringIO(zf.read(spec.filename).decode())))
            assert header == list(spec.names)  # header only, in the spec's order
            assert f"## {spec.filename}" in guide
            for column in spec.columns:
                assert f"| `{column.name}` | {'yes' if column.required else 'no'} |" in guide
                assert all(v in guide for v in column.values)
    drop = validate_package(out, schema)  # the empty template is a valid (empty) drop of its schema
    assert drop.ok, drop.report.render()
    assert set(drop.rows.values()) == {0}
    if definition.has_manifest:
        assert set(drop.modes.values()) == {"bulk"} and set(drop.modes) == set(definition.files)


def test_the_sso_guide_names_the_key_variable_and_help_lists_the_schemas(tmp_path):
    with zipfile.ZipFile(_template(tmp_path, "sso-credentials")) as zf:
        assert "PASSPORT_CREDENTIALS_KEY" in zf.read("README.md").decode()
    result = CliRunner().invoke(cli, ["templates", "--help"])
    assert result.exit_code == 0 and all(name in " ".join(result.output.split()) for name in
                                         ("oneroster-1.1", "oneroster-1.2", "sso-credentials"))


def test_an_unknown_schema_exits_1_with_the_choices(tmp_path):
    result = CliRunner().invoke(cli, ["templates", "--schema", "oneroster-1.0", "--out", str(tmp_path / "t.zip")])
    assert result.exit_code == 1
    assert "unknown schema 'oneroster-1.0'" in result.stderr and "passport-basic-identity" in result.stderr
    assert not (tmp_path / "t.zip").exists()


@pytest.mark.slow
def test_a_filled_basic_identity_template_syncs(tmp_path, passport_home, store_url):
    template = _template(tmp_path, "passport-basic-identity")
    filled = tmp_path / "filled.zip"
    with zipfile.ZipFile(template) as zf, zipfile.ZipFile(filled, "w") as out:
        for name, rows in (("schools.csv", SCHOOLS), ("people.csv", PEOPLE)):
            text = zf.read(name).decode()
            header = next(csv.reader(io.StringIO(text)))
            body = io.StringIO()
            csv.writer(body, lineterminator="\r\n").writerows([[r.get(c, "") for c in header] for r in rows])
            out.writestr(name, text + body.getvalue())
        out.writestr("README.md", zf.read("README.md"))  # left in: only CSVs belong to the drop
    write_integration(tmp_path / "integrations", "lakeside", [
        {"name": "provisioning", "type": "csv", "path": str(filled), "schema": "passport-basic-identity"}])
    with dg.instance_for_test() as instance:
        summary = run_sync(instance, "lakeside")
    assert summary["status"] == "successfully in production", summary["errors"]
    assert summary["changes"]["users"]["added"] == len(PEOPLE)
    assert GoldenStore(store_url).count_records("lakeside", "2025-2026")["users"] == len(PEOPLE)
