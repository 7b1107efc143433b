"""Each API connector's extract of a school year holds only that year's data, against fakes that
serve two years (2024-2025 and 2025-2026) the way each API does; what the extract did for the year
is said in ``school_year_scope``. Google Workspace has no school year and says so."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from passport_pipelines.config.loader import load_integration
from passport_pipelines.normalize.rosters import normalize_source
from passport_pipelines.normalize.school_year_check import check_normalized_source
from passport_pipelines.sources.base import ExtractRequest
from passport_pipelines.sources.google_workspace.connector import GoogleWorkspaceConnector
from passport_pipelines.sources.oneroster_api.connector import OneRosterApiConnector
from passport_pipelines.sources.powerschool.connector import PowerSchoolConnector
from passport_pipelines.sources.synergy.connector import SynergyConnector
from passport_pipelines.sources.xpress.connector import XpressConnector
from tests.canonical_tables import extract, read_tables
from tests.conftest import write_integration
from tests.fakes.district_data import make_district_years, served_years
from tests.fakes.google_directory_server import google_source_config, start_google_fake
from tests.fakes.oneroster_api_server import (
    oneroster_source_config,
    start_oneroster_fake,
    start_synergy_fake,
    synergy_source_config,
)
from tests.fakes.powerschool_server import powerschool_source_config, start_powerschool_fake
from tests.fakes.xpress_server import start_xpress_fake, xpress_source_config

YEARS = ("2024-2025", "2025-2026")
FAST = dict(base_delay_seconds=0.01, max_retry_seconds=10)


@pytest.fixture(scope="module")
def years(tmp_path_factory):
    return make_district_years(tmp_path_factory.mktemp("drops"), YEARS, students=30)


@pytest.fixture
def two_years(years):
    """What an SIS holding both years serves (the earlier year's course/class ids prefixed y2025-)."""
    return served_years(years["2025-2026"], years["2024-2025"])


def _integration(tmp_path, monkeypatch, config_env):
    config, env = config_env
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    path = write_integration(tmp_path / "integrations", "twoyears", [config], school_years=list(YEARS))
    return load_integration(path)


def _year(integration, school_year: str, connector):
    """The extract of one year, and its canonical tables."""
    source = integration.sources[0]
    result = extract(integration, source.name, school_year=school_year, connector=connector)
    normalized = normalize_source(result, district=integration.district, school_year=school_year,
                                  integration=integration)
    return result, read_tables(normalized.folder), normalized


def _ids(table, column="sourced_id") -> set[str]:
    return set(table.column(column).to_pylist())


def _assert_only_the_years(tables, normalized, school_year: str) -> None:
    end = school_year[-4:]
    sessions = tables["academic_sessions"]
    assert sessions.num_rows and set(sessions.column("ending_year").to_pylist()) == {end}
    terms = {t for cell in tables["classes"].column("term_sourced_ids").to_pylist() for t in cell.split(",")}
    assert tables["classes"].num_rows and terms <= _ids(sessions)
    assert tables["enrollments"].num_rows and _ids(tables["enrollments"], "class_sourced_id") <= _ids(tables["classes"])
    report = check_normalized_source(normalized.source, Path(normalized.folder), normalized.entity_modes,
                                     school_year)
    assert report.count() == 0, report.render()


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_oneroster_extracts_of_each_year_hold_that_years_sessions_classes_and_enrollments(
        passport_home, tmp_path, monkeypatch, years, two_years, version):
    with start_oneroster_fake(two_years, version=version, auth="oauth2") as server:
        integration = _integration(tmp_path, monkeypatch, oneroster_source_config(server, name="sis"))
        classes = {}
        for school_year in YEARS:
            result, tables, normalized = _year(integration, school_year, OneRosterApiConnector(**FAST))
            _assert_only_the_years(tables, normalized, school_year)
            classes[school_year] = _ids(tables["classes"])
            assert f"filter=schoolYear='{school_year[-4:]}'" in result.school_year_scope
        sessions_asked = {r.arg("filter") for r in server.requests if r.path.endswith("/academicSessions")}
    assert sessions_asked == {"schoolYear='2025'", "schoolYear='2026'"}  # asked of the server, per year
    assert classes["2025-2026"] == {c["sourcedId"] for c in years["2025-2026"].tables["classes"]}
    assert classes["2024-2025"] == {"y2025-" + c["sourcedId"] for c in years["2024-2025"].tables["classes"]}


def test_synergy_extracts_of_a_prior_year_hold_that_years_data(passport_home, tmp_path, monkeypatch, two_years):
    with start_synergy_fake(two_years) as server:
        integration = _integration(tmp_path, monkeypatch, synergy_source_config(server))
        result, tables, normalized = _year(integration, "2024-2025", SynergyConnector(**FAST))
    _assert_only_the_years(tables, normalized, "2024-2025")
    assert "filter=schoolYear='2025'" in result.school_year_scope


def test_a_oneroster_provider_refusing_the_year_filter_is_restricted_after_reading(
        passport_home, tmp_path, monkeypatch, two_years):
    with start_oneroster_fake(two_years, version="1.1", auth="oauth2", unfilterable=("schoolYear",)) as server:
        integration = _integration(tmp_path, monkeypatch, oneroster_source_config(server, name="sis"))
        result, tables, normalized = _year(integration, "2024-2025", OneRosterApiConnector(**FAST))
    _assert_only_the_years(tables, normalized, "2024-2025")
    assert "the provider refused filter=schoolYear='2025'" in result.school_year_scope


def test_oneroster_incremental_pull_reads_the_years_sessions_whole_and_keeps_its_own_classes(
        passport_home, tmp_path, monkeypatch, two_years):
    with start_oneroster_fake(two_years, version="1.1", auth="oauth2") as server:
        integration = _integration(tmp_path, monkeypatch,
                                   oneroster_source_config(server, name="sis", mode="incremental"))
        source = integration.sources[0]
        first = OneRosterApiConnector(**FAST).extract(ExtractRequest(integration, source, "2024-2025",
                                                                     tmp_path / "first"))
        # After the first pull, a class of each year changes.
        server.oneroster.modify("classes", "cls-000001", title="Renamed now")
        server.oneroster.modify("classes", "y2025-cls-000001", title="Renamed then")
        before = len(server.requests)
        OneRosterApiConnector(**FAST).extract(ExtractRequest(integration, source, "2024-2025", tmp_path / "second",
                                                             first.cursor))
        asked = {r.path.rsplit("/", 1)[-1]: r.arg("filter") for r in server.requests[before:]}
    assert asked["academicSessions"] == "schoolYear='2025'"  # whole, to tell the year's classes
    assert asked["classes"].startswith("dateLastModified>'")
    changed = [json.loads(r)["sourcedId"] for r in pq.read_table(tmp_path / "second" / "classes.parquet")
               .column("record").to_pylist()]
    assert changed == ["y2025-cls-000001"]


def test_powerschool_extracts_of_each_year_hold_that_years_terms_sections_and_enrollments(
        passport_home, tmp_path, monkeypatch, two_years):
    with start_powerschool_fake(two_years) as server:
        integration = _integration(tmp_path, monkeypatch, powerschool_source_config(server, name="ps"))
        sections_read = {}
        for school_year in YEARS:
            before = len(server.requests)
            result, tables, normalized = _year(integration, school_year, PowerSchoolConnector(**FAST))
            _assert_only_the_years(tables, normalized, school_year)
            assert f"terms with start_year {school_year[:4]}" in result.school_year_scope
            sections_read[school_year] = {r.path.split("/")[4] for r in server.requests[before:]
                                          if r.path.endswith("/section_enrollment")}
            terms = {int(t.removeprefix("term-")) for t in _ids(tables["academic_sessions"])}
            assert {t // 100 for t in terms} == {int(school_year[:4]) - 1990}  # PowerSchool's yearid
    # Only the year's sections were asked for their enrollments.
    assert sections_read["2024-2025"] and not sections_read["2024-2025"] & sections_read["2025-2026"]


def test_xpress_extracts_of_each_year_ask_for_it_and_keep_a_cursor_per_year(
        passport_home, tmp_path, monkeypatch, years):
    with start_xpress_fake(years["2025-2026"], past_years=(years["2024-2025"],)) as server:
        integration = _integration(tmp_path, monkeypatch, xpress_source_config(server))
        results = {}
        for school_year in YEARS:
            before = len(server.requests)
            result, tables, normalized = _year(integration, school_year, XpressConnector(**FAST))
            _assert_only_the_years(tables, normalized, school_year)
            asked = {r.header("SchoolYear") for r in server.requests[before:] if "/xLeas" in r.path}
            assert asked == {school_year[-4:]}
            assert f"SchoolYear: {school_year[-4:]}" in result.school_year_scope
            results[school_year] = result
        # Last year's cursor never starts this year's pull: a full pull of 2025-2026 instead.
        source = integration.sources[0]
        again = XpressConnector(**FAST).extract(ExtractRequest(integration, source.model_copy(
            update={"mode": "incremental"}), "2025-2026", tmp_path / "again", results["2024-2025"].cursor))
    assert results["2024-2025"].cursor["school_year"] == "2025"
    assert set(again.entity_modes.values()) <= {"bulk", "absent"}
    assert again.cursor["school_year"] == "2026"


def test_google_workspace_says_it_has_no_school_year(passport_home, tmp_path, monkeypatch, years):
    with start_google_fake(years["2025-2026"]) as server:
        integration = _integration(tmp_path, monkeypatch, google_source_config(server))
        result = extract(integration, "google", school_year="2024-2025",
                         connector=GoogleWorkspaceConnector(**FAST))
    assert result.school_year_scope.startswith("not restricted by the API: Google Workspace accounts have no "
                                               "school year")
    assert sum(result.rows.values()) > 0
