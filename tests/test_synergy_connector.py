"""Synergy SIS through its OneRoster API, set up the way a Synergy district hands out its settings."""

from __future__ import annotations

import pytest

from passport_pipelines.config.loader import load_integration
from passport_pipelines.config.sources import SynergySource
from passport_pipelines.sources.registry import connector_class
from passport_pipelines.sources.synergy.connector import SynergyConnector
from tests.canonical_tables import assert_same_canonical, canonical_tables
from tests.conftest import write_integration
from tests.fakes.district_data import make_district_data
from tests.fakes.oneroster_api_server import start_synergy_fake, synergy_source_config


def test_synergy_district_gives_the_csv_drops_canonical_tables(passport_home, tmp_path, monkeypatch):
    data = make_district_data(tmp_path / "drop", students=40)
    with start_synergy_fake(data) as server:
        config, env = synergy_source_config(server, page_size=20)
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        assert "version" not in config and "auth" not in config
        assert config["base_url"].endswith("/ims/oneroster/v1p1")  # the Server URL, version path included
        path = write_integration(tmp_path / "integrations", "syn", [
            {"name": "csv", "type": "csv", "path": str(data.folder)}, config])
        integration = load_integration(path)
        source = integration.source("synergy")
        assert (source.version, source.auth, source.oauth_scopes()) == ("1.1", "oauth2", [])
        assert connector_class("synergy") is SynergyConnector

        check = SynergyConnector().test_connection(integration, source)
        assert check.ok, check.as_dict()

        assert_same_canonical(canonical_tables(integration, "csv"), canonical_tables(integration, "synergy"))
        # the version path is not appended twice, and a 1.1 token request asks for no scope
        assert server.requests_to(r"^/ims/oneroster/v1p1/users$")
        assert not server.requests_to(r"v1p1/ims/oneroster")
        assert all("scope" not in r.form() for r in server.requests_to(r"/oauth2/token"))


def test_synergy_settings():
    common = dict(name="syn", type="synergy", client_id="edlink", client_secret="env:SYN_SECRET",
                  token_url="https://sis.example.org/token")
    assert SynergySource(**common, base_url="https://sis.example.org").version == "1.1"
    v12 = SynergySource(**common, base_url="https://sis.example.org/ims/oneroster/rostering/v1p2")
    assert (v12.version, v12.auth) == ("1.2", "oauth2")
    oauth1 = SynergySource(**{**common, "token_url": None}, auth="oauth1",
                           base_url="https://sis.example.org/ims/oneroster/v1p1")
    assert oauth1.auth == "oauth1"
    with pytest.raises(ValueError, match="token_url is required"):
        SynergySource(**{**common, "token_url": None}, base_url="https://sis.example.org")
