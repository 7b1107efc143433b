"""Per-year drop locations in integration files: a plain path, a template with {school_year},
{start_year} and {end_year}, or a map of school year -> path (config/year_locations.py), and where
each reader of a drop (fetch, drop sensor, Test Connection) finds a year's drop."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from passport_pipelines.cli.main import cli
from passport_pipelines.config.loader import IntegrationError, load_integration
from passport_pipelines.config.sources import SftpSource
from passport_pipelines.definitions import defs
from passport_pipelines.jobs.partitions import register_sync_partition
from passport_pipelines.jobs.scheduling.drop_signatures import drop_signature
from passport_pipelines.sensors.new_drops import new_drops
from passport_pipelines.sources.drops.errors import DropFetchError
from passport_pipelines.validation.extract import fetch_drop
from tests.conftest import write_integration
from tests.district_files import make_district
from tests.fakes.sftp_server import running_sftp_server

HEAD = """
district: lakeside
name: Lakeside USD
school_years: ["2024-2025", "2025-2026"]
sources:
  - name: sis
    type: csv
"""


def _load(tmp_path, location: str):
    path = tmp_path / "lakeside.yaml"
    path.write_text(HEAD + f"    path: {location}\n", encoding="utf-8")
    return load_integration(path)


def _fails(tmp_path, location: str) -> str:
    with pytest.raises(IntegrationError) as err:
        _load(tmp_path, location)
    return str(err.value)


@pytest.mark.parametrize("location, expected", [
    ("drops/{school_year}", {"2024-2025": "drops/2024-2025", "2025-2026": "drops/2025-2026"}),
    ("drops/{start_year}-to-{end_year}.zip", {"2024-2025": "drops/2024-to-2025.zip",
                                               "2025-2026": "drops/2025-to-2026.zip"}),
    ("{2024-2025: drops/2024, 2025-2026: drops/current}", {"2024-2025": "drops/2024", "2025-2026": "drops/current"}),
    ("drops/latest", {"2024-2025": "drops/latest", "2025-2026": "drops/latest"}),  # one location for every year
])
def test_each_year_reads_its_location(tmp_path, location, expected):
    integration = _load(tmp_path, location)
    source = integration.sources[0]
    got = {year: str(source.for_year(year).path) for year in integration.school_years}
    assert got == expected


def test_a_plain_path_is_unchanged(tmp_path):
    source = _load(tmp_path, "drops/latest").sources[0]
    assert source.path == Path("drops/latest")


@pytest.mark.parametrize("location, expected", [
    ("drops/{year}", "sources[0].path: 'drops/{year}': unknown placeholder {year}; the placeholders are "
                     "{school_year}, {start_year}, {end_year}"),
    ("drops/{school_year!r}", "unknown placeholder {school_year!r}"),
    ("drops/{school_year:>10}", "unknown placeholder {school_year:>10}"),
    ("drops/{school_year", "unbalanced { or }"),
    ("{2025: drops/2025}", "2025 is not a school year like 2025-2026"),
    ("{2024-2025: 'drops/{school_year}'}", "placeholders belong in a template instead of a map"),
    ("{2023-2024: drops/old, 2024-2025: drops/2024}",
     "source sis: path names school year(s) 2023-2024, which school_years does not list (2024-2025, 2025-2026)"),
    ("{}", "needs at least one school year"),
    ("[a, b]", "must be a path, a template such as drops/{school_year}, or a map of school year -> path"),
])
def test_bad_locations_are_refused_naming_the_key(tmp_path, location, expected):
    message = _fails(tmp_path, location)
    assert str(tmp_path / "lakeside.yaml") in message
    assert expected in message


def test_an_sftp_remote_path_takes_a_template_or_a_map():
    base = dict(name="drop", type="sftp", host="sftp.example.org", username="d", password="env:PW",
                host_key="ssh-ed25519 AAAA")
    templated = SftpSource(**base, remote_path="/outbox/{end_year}")
    assert templated.for_year("2024-2025").remote_path == "/outbox/2025"
    mapped = SftpSource(**base, remote_path={"2024-2025": "/archive/2024", "2025-2026": "/outbox"})
    assert mapped.for_year("2025-2026").remote_path == "/outbox"
    with pytest.raises(ValueError, match="unknown placeholder"):
        SftpSource(**base, remote_path="/outbox/{school_yaer}")


# --- where readers look --------------------------------------------------------------------------------

@pytest.fixture
def two_year_folders(tmp_path):
    drops = tmp_path / "drops"
    make_district(drops / "2025-2026", students=5)
    return drops


def test_fetch_reads_the_years_folder_and_names_source_year_and_path_when_missing(passport_home, tmp_path,
                                                                                 two_year_folders):
    path = write_integration(tmp_path / "integrations", "lakeside",
                             [{"name": "sis", "type": "csv", "path": str(two_year_folders / "{school_year}")}],
                             school_years=["2024-2025", "2025-2026"])
    integration = load_integration(path)
    source = integration.sources[0]
    landed = fetch_drop(integration, source, tmp_path / "current", "2025-2026").path
    assert (landed / "academicSessions.csv").read_text().count("2026") >= 3
    with pytest.raises(DropFetchError) as err:
        fetch_drop(integration, source, tmp_path / "prior", "2024-2025")
    assert str(err.value).startswith("source sis, school year 2024-2025: ")
    assert str(two_year_folders / "2024-2025") in str(err.value) and "does not exist" in str(err.value)


def test_a_year_missing_from_the_map_is_a_clear_fetch_error(passport_home, tmp_path, two_year_folders):
    mapped = {"2025-2026": str(two_year_folders / "2025-2026")}
    path = write_integration(tmp_path / "integrations", "lakeside", [{"name": "sis", "type": "csv", "path": mapped}],
                             school_years=["2024-2025", "2025-2026"])
    integration = load_integration(path)
    with pytest.raises(DropFetchError, match=r"source sis: no location for school year 2024-2025 \(its map names "
                                             r"2025-2026\)"):
        fetch_drop(integration, integration.sources[0], tmp_path / "prior", "2024-2025")


def test_the_drop_signature_is_of_the_years_location(passport_home, tmp_path, two_year_folders):
    path = write_integration(tmp_path / "integrations", "lakeside",
                             [{"name": "sis", "type": "csv", "path": str(two_year_folders / "{school_year}")}],
                             school_years=["2024-2025", "2025-2026"])
    integration = load_integration(path)
    source = integration.sources[0]
    assert drop_signature(integration, source, "2025-2026").files == 8  # manifest + 7 files
    assert drop_signature(integration, source, "2024-2025").files == 0  # nothing there yet


def test_sftp_fetches_the_years_remote_folder_and_says_which_year_is_missing(passport_home, tmp_path,
                                                                              monkeypatch):
    root = tmp_path / "sftp-root"
    make_district(root / "outbox" / "2025-2026", students=5)
    with running_sftp_server(root, username="district", password="right") as server:
        monkeypatch.setenv("LAKESIDE_SFTP", "right")
        path = write_integration(tmp_path / "integrations", "lakeside", [{
            "name": "nightly", "type": "sftp", "host": "127.0.0.1", "port": server.port, "username": "district",
            "password": "env:LAKESIDE_SFTP", "host_key": server.host_key_line,
            "remote_path": "/outbox/{school_year}"}], school_years=["2024-2025", "2025-2026"])
        integration = load_integration(path)
        source = integration.sources[0]
        landed = fetch_drop(integration, source, tmp_path / "current", "2025-2026").path
        assert (landed / "manifest.csv").is_file()
        assert drop_signature(integration, source, "2025-2026").files == 8
        with pytest.raises(DropFetchError) as err:
            fetch_drop(integration, source, tmp_path / "prior", "2024-2025")
    message = str(err.value)
    assert message.startswith("source nightly, school year 2024-2025: SFTP drop ")
    assert "/outbox/2024-2025" in message and "does not exist" in message


def test_test_connection_checks_every_years_location(passport_home, tmp_path, two_year_folders):
    write_integration(tmp_path / "integrations", "lakeside",
                      [{"name": "sis", "type": "csv", "path": str(two_year_folders / "{school_year}")}],
                      school_years=["2024-2025", "2025-2026"])
    result = CliRunner().invoke(cli, ["test-connection", "lakeside", "--json"])
    assert result.exit_code == 1
    [check] = json.loads(result.output)["sources"]
    steps = {s["name"]: s for s in check["steps"]}
    assert set(steps) == {"read folder 2024-2025", "read folder 2025-2026"}
    assert steps["read folder 2025-2026"]["ok"] and not steps["read folder 2024-2025"]["ok"]
    assert "2024-2025 does not exist" in steps["read folder 2024-2025"]["detail"]
    assert check["failure"] == "drop_unavailable"


def test_integrations_new_takes_a_template_or_a_map(passport_home, tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["integrations", "new", "lakeside", "--source", "csv",
                                 "--set", f"path={tmp_path}/drops/{{school_year}}"])
    assert result.exit_code == 0, result.output
    integration = load_integration(tmp_path / "integrations" / "lakeside.yaml")
    assert str(integration.sources[0].path) == f"{tmp_path}/drops/{{school_year}}"
    result = runner.invoke(cli, ["integrations", "new", "lakeside", "--source", "csv", "--force",
                                 "--school-year", "2024-2025", "--school-year", "2025-2026",
                                 "--set", f"path=2024-2025={tmp_path}/old,2025-2026={tmp_path}/new"])
    assert result.exit_code == 0, result.output
    integration = load_integration(tmp_path / "integrations" / "lakeside.yaml")
    assert {y: str(p) for y, p in integration.sources[0].path.items()} == {
        "2024-2025": f"{tmp_path}/old", "2025-2026": f"{tmp_path}/new"}


def test_the_drop_sensor_watches_the_current_years_location(tmp_path, passport_home, two_year_folders):
    old = make_district(two_year_folders / "2024-2025", students=5)
    write_integration(tmp_path / "integrations", "lakeside",
                      [{"name": "sis", "type": "csv", "path": str(two_year_folders / "{school_year}")}],
                      school_years=["2024-2025", "2025-2026"], schedule={"on_new_drop": True})

    def settle(folder):
        then = time.time() - 120
        for path in folder.rglob("*"):
            os.utime(path, (then, then))

    def tick():
        with dg.build_sensor_context(instance=instance, resources=defs.resources) as ctx:
            return new_drops(ctx)

    with dg.instance_for_test() as instance:
        register_sync_partition(instance, "lakeside", "2025-2026")
        settle(two_year_folders)
        [first] = tick()
        assert first.partition_key == "lakeside|2025-2026"
        # Last year's folder changing is no new drop of this year.
        (old / "classes.csv").write_text((old / "classes.csv").read_text().replace("\n", "\r\n"))
        settle(old)
        [again] = tick()
        assert again.run_key == first.run_key
