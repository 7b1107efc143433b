"""One district, every way it can arrive: its CSV drop, and each API connector reading the fake of
its vendor's API that serves the same district. Each gives the CSV drop's canonical tables, on every
column the API has a field for (each connector's test module names the columns it cannot carry,
and why)."""

from __future__ import annotations

import contextlib

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from passport_pipelines.config.loader import load_integration
from passport_pipelines.model import entities
from tests.canonical_tables import assert_same_canonical, canonical_tables
from tests.conftest import write_integration
from tests.fakes.district_data import make_district_data
from tests.fakes.google_directory_server import google_source_config, start_google_fake
from tests.fakes.oneroster_api_server import (as_served_by_12, oneroster_source_config, start_oneroster_fake,
                                              start_synergy_fake, synergy_source_config)
from tests.fakes.powerschool_server import powerschool_source_config, start_powerschool_fake, translate_csv_tables
from tests.fakes.xpress_server import start_xpress_fake, xpress_source_config
from tests.test_google_workspace_connector import COLUMNS as GOOGLE_COLUMNS
from tests.test_google_workspace_connector import GOOGLE_ROLES
from tests.test_powerschool_connector import COMPARED as POWERSCHOOL_COLUMNS
from tests.test_xpress_connector import _columns as xpress_columns

pytestmark = pytest.mark.slow


def test_the_csv_drop_and_every_api_source_give_the_same_canonical_tables(passport_home, tmp_path, monkeypatch):
    data = make_district_data(tmp_path / "drop", students=50, seed=23)
    with contextlib.ExitStack() as stack:
        servers = {
            "oneroster_11_oauth1": stack.enter_context(start_oneroster_fake(data, version="1.1", auth="oauth1")),
            "oneroster_11_oauth2": stack.enter_context(start_oneroster_fake(data, version="1.1", auth="oauth2")),
            "oneroster_12": stack.enter_context(start_oneroster_fake(data, version="1.2", auth="oauth2")),
            "synergy": stack.enter_context(start_synergy_fake(data)),
            "xpress": stack.enter_context(start_xpress_fake(data)),
            "powerschool": stack.enter_context(start_powerschool_fake(data)),
            "google": stack.enter_context(start_google_fake(data)),
        }
        configs = {
            "oneroster_11_oauth1": oneroster_source_config(servers["oneroster_11_oauth1"], name="oneroster_11_oauth1"),
            "oneroster_11_oauth2": oneroster_source_config(servers["oneroster_11_oauth2"], name="oneroster_11_oauth2"),
            "oneroster_12": oneroster_source_config(servers["oneroster_12"], name="oneroster_12"),
            "synergy": synergy_source_config(servers["synergy"]),
            "xpress": xpress_source_config(servers["xpress"]),
            "powerschool": powerschool_source_config(servers["powerschool"]),
            "google": google_source_config(servers["google"]),
        }
        sources = [{"name": "csv", "type": "csv", "path": str(data.folder)}]
        for config, env in configs.values():
            sources.append(config)
            for key, value in env.items():
                monkeypatch.setenv(key, value)
        integration = load_integration(write_integration(tmp_path / "integrations", "one-district", sources))
        tables = {s.name: canonical_tables(integration, s.name) for s in integration.sources}

    csv = tables["csv"]
    for name in ("oneroster_11_oauth1", "oneroster_11_oauth2", "synergy"):
        assert_same_canonical(csv, tables[name])  # every entity, every content column
    assert_same_canonical(as_served_by_12(csv, data), tables["oneroster_12"])

    xpress = tables["xpress"]
    assert_same_canonical(csv, xpress, entities_=tuple(e for e in entities.ENTITIES if e != "users"),
                          columns={e: xpress_columns(e) for e in entities.ENTITIES})
    assert_same_canonical(csv, xpress, entities_=("users",), columns={"users": xpress_columns("users", ("phone",))})

    assert_same_canonical(translate_csv_tables(csv, servers["powerschool"]), tables["powerschool"],
                          columns=POWERSCHOOL_COLUMNS)

    staff_and_students = {**csv, "users": csv["users"].filter(pc.is_in(csv["users"]["role"], pa.array(GOOGLE_ROLES)))}
    assert_same_canonical(staff_and_students, tables["google"], entities_=("users",), columns={"users": GOOGLE_COLUMNS})

    # Nothing was compared against nothing: the district is there in every source.
    for name, result in tables.items():
        assert result["users"].num_rows >= 50, name
