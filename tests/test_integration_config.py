"""Integration files: valid ones load; invalid ones say which file, which key, what is wrong."""

from __future__ import annotations

import pytest

from passport_pipelines.config.loader import IntegrationError, load_all, load_integration
from passport_pipelines.config.secrets import MissingSecretError, resolve_secret

VALID = """
district: lakeside
name: Lakeside USD
school_years: ["2025-2026"]
sources:
  - name: sis
    type: csv
    path: drops/latest
"""


def _write(tmp_path, text: str, name: str = "lakeside.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_file_loads_with_defaults_and_relative_paths(tmp_path):
    integration = load_integration(_write(tmp_path, VALID))
    source = integration.sources[0]
    assert (source.schema_, source.mode, integration.state) == ("oneroster-1.1", "full", "active")
    assert integration.resolve_path(source.path) == (tmp_path / "drops" / "latest").resolve()


@pytest.mark.parametrize("text, expected", [
    (VALID.replace("district: lakeside", "district: Lake_Side"), "district: must be a slug"),
    (VALID.replace('["2025-2026"]', '["2025-2027"]'), "school_years: '2025-2027' is not a school year"),
    (VALID.replace("type: csv", "type: csv\n    bogus: 1"), "sources[0].bogus: unknown key"),
    (VALID.replace("    path: drops/latest\n", ""), "sources[0].path: required key is missing"),
    (VALID.replace("type: csv", "type: csv\n    schema: oneroster-9"), "sources[0].schema"),
    (VALID.replace("type: csv", "type: csv\n    mode: sometimes"), "sources[0].mode"),
    (VALID + "state: sleeping\n", "state"),
    (VALID + "  - name: sis\n    type: csv\n    path: x\n", "source names must be unique; repeated: sis"),
    ("district: [", "not valid YAML"),
])
def test_errors_name_the_file_and_the_key(tmp_path, text, expected):
    path = _write(tmp_path, text)
    with pytest.raises(IntegrationError) as err:
        load_integration(path)
    assert str(path) in str(err.value)
    assert expected in str(err.value)


def test_secrets_must_be_env_references_and_are_never_echoed(tmp_path):
    text = VALID.replace("""    type: csv
    path: drops/latest""", """    type: sftp
    host: sftp.example.org
    username: district
    password: hunter2-literal
    remote_path: /outbox
    host_key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE""")
    with pytest.raises(IntegrationError) as err:
        load_integration(_write(tmp_path, text))
    assert "sources[0].password: secrets must be env:VAR references" in str(err.value)
    assert "hunter2-literal" not in str(err.value)


def test_sftp_requires_a_host_key(tmp_path):
    text = VALID.replace("""    type: csv
    path: drops/latest""", """    type: sftp
    host: sftp.example.org
    username: district
    password: env:SFTP_PASSWORD
    remote_path: /outbox""")
    with pytest.raises(IntegrationError, match="host key is always checked"):
        load_integration(_write(tmp_path, text))


def test_file_name_must_match_the_district(tmp_path):
    with pytest.raises(IntegrationError, match=r"must match the file name \(other.yaml\)"):
        load_integration(_write(tmp_path, VALID, "other.yaml"))


def test_load_all_keeps_valid_files_and_reports_invalid_ones(tmp_path):
    _write(tmp_path, VALID)
    _write(tmp_path, "district: broken\n", "broken.yaml")
    found, errors = load_all(tmp_path)
    assert list(found) == ["lakeside"]
    assert len(errors) == 1 and "broken.yaml" in errors[0]


def test_resolve_secret_names_the_variable_not_the_value(monkeypatch):
    monkeypatch.setenv("PASSPORT_TEST_SECRET", "s3cret")
    assert resolve_secret("env:PASSPORT_TEST_SECRET") == "s3cret"
    monkeypatch.delenv("PASSPORT_TEST_SECRET")
    with pytest.raises(MissingSecretError, match="PASSPORT_TEST_SECRET"):
        resolve_secret("env:PASSPORT_TEST_SECRET")
