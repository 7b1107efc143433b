"""passport integrations new: a valid file for every source type from --set KEY=VALUE, and clear
refusals for what would not load."""

from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner

from passport_pipelines.cli.main import cli
from passport_pipelines.config.loader import load_district

SETTINGS = {
    "csv": ["path=/srv/drops/lakeside"],
    "sftp": ["host=sftp.lakeside.example", "username=passport", "password=env:LAKESIDE_SFTP",
             "remote_path=/outbox", "host_key=ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample", "port=2222"],
    "powerschool": ["base_url=https://lakeside.powerschool.com", "client_id=env:PS_ID", "client_secret=env:PS_SECRET",
                    "extensions=u_students_extension,u_def_ext_students", "school_ids=2,5"],
    "oneroster": ["base_url=https://sis.lakeside.example", "token_url=https://sis.lakeside.example/oauth/token",
                  "client_id=passport", "client_secret=env:OR_SECRET", "version=1.1"],
    "synergy": ["base_url=https://lakeside.edupoint.example/ims/oneroster/v1p1",
                "token_url=https://lakeside.edupoint.example/oauth/token", "client_id=passport",
                "client_secret=env:SYN_SECRET"],
    "xpress": ["base_url=https://xpress.example/api", "token_url=https://auth.xpress.example/token",
               "client_id=passport", "client_secret=env:XP_SECRET", "max_concurrency=2"],
    "google": ["service_account_key=env:GOOGLE_KEY", "delegated_admin=admin@lakeside.example",
               "role_by_org_unit=/Students=student,/Staff=teacher"],
}


def _run(*args):
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize("source_type", sorted(SETTINGS))
def test_every_source_type_gets_a_file_that_loads(passport_home, tmp_path, source_type):
    args = ["integrations", "new", "lakeside", "--source", source_type, "--school-year", "2025-2026"]
    for item in SETTINGS[source_type]:
        args += ["--set", item]
    code, out = _run(*args)
    assert code == 0, out
    doc = yaml.safe_load((tmp_path / "integrations" / "lakeside.yaml").read_text())
    source = doc["sources"][0]
    assert source["type"] == source_type and source["mode"] == "full"
    integration = load_district("lakeside")
    loaded = integration.sources[0]
    assert loaded.type == source_type
    if source_type == "oneroster":
        assert (loaded.version, loaded.base_url, loaded.client_secret) == (
            "1.1", "https://sis.lakeside.example", "env:OR_SECRET")
    if source_type == "powerschool":
        assert loaded.extensions == ["u_students_extension", "u_def_ext_students"] and loaded.school_ids == [2, 5]
    if source_type == "google":
        assert loaded.role_by_org_unit == {"/Students": "student", "/Staff": "teacher"}
    if source_type == "sftp":
        assert loaded.port == 2222
    if source_type == "xpress":
        assert loaded.max_concurrency == 2


def test_a_literal_secret_is_refused_and_never_echoed(passport_home):
    code, out = _run("integrations", "new", "lakeside", "--source", "oneroster",
                     "--set", "base_url=https://sis.example", "--set", "token_url=https://sis.example/token",
                     "--set", "client_id=passport", "--set", "client_secret=hunter2-literal")
    assert code == 1
    assert "env:VAR" in out and "hunter2-literal" not in out


def test_missing_and_unknown_keys_are_named(passport_home):
    code, out = _run("integrations", "new", "lakeside", "--source", "powerschool",
                     "--set", "base_url=https://ps.example")
    assert code == 1
    assert "--set client_id=..." in out and "--set client_secret=..." in out
    code, out = _run("integrations", "new", "lakeside", "--source", "xpress", "--set", "colour=blue")
    assert code == 1 and "not a xpress setting" in out and "token_url" in out


def test_a_bad_value_is_refused_with_the_key(passport_home):
    code, out = _run("integrations", "new", "lakeside", "--source", "oneroster",
                     "--set", "base_url=sis.example", "--set", "token_url=https://sis.example/token",
                     "--set", "client_id=p", "--set", "client_secret=env:S", "--set", "version=2.0")
    assert code == 1
    assert "base_url" in out and "version" in out
