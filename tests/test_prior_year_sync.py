"""Prior-year backfills through the real sync job: each school year reads its own source data and
commits and delivers its own academic sessions; a drop (or an API answer) of another year is
refused and nothing is committed."""

from __future__ import annotations

import zipfile

import dagster as dg
import pandas as pd
import pytest

from passport_pipelines.store.golden_store import GoldenStore
from tests.conftest import write_integration
from tests.fakes.district_data import make_district_years, served_years
from tests.fakes.oneroster_api_server import oneroster_source_config, start_oneroster_fake
from tests.fakes.xpress_server import start_xpress_fake, xpress_source_config
from tests.sync_harness import run_sync
from tests.synthetic.district import generate_oneroster_district

pytestmark = pytest.mark.slow

YEARS = ["2024-2025", "2025-2026"]


def _delivered_sessions(summary: dict) -> set[str]:
    [export] = summary["deliveries"]
    with zipfile.ZipFile(export) as zf:
        return set(pd.read_csv(zf.open("academicSessions.csv"), dtype=str)["schoolYear"])


def _stored_years(store: GoldenStore, school_year: str) -> set[str]:
    return set(store.current_records("lakeside", school_year, "academic_sessions").column("ending_year").to_pylist())


def _snapshot(store: GoldenStore) -> dict:
    return {year: (store.count_records("lakeside", year),
                   [(v.number, v.status) for v in store.versions("lakeside", year)]) for year in YEARS}


def test_each_school_year_syncs_and_delivers_its_own_drop(tmp_path, passport_home, sqlite_store):
    for year in YEARS:
        generate_oneroster_district(tmp_path / "drops" / year, 30, seed=7, school_year=year)
    write_integration(tmp_path / "integrations", "lakeside", [
        {"name": "sis", "type": "csv", "path": str(tmp_path / "drops" / "{school_year}")}], school_years=YEARS)
    with dg.instance_for_test() as instance:
        prior = run_sync(instance, "lakeside", "2024-2025")  # the backfill first, as an operator would
        current = run_sync(instance, "lakeside", "2025-2026")
    for summary in (prior, current):
        assert summary["status"] == "successfully in production", summary["errors"]
        assert summary["version"] == 1
    assert _delivered_sessions(prior) == {"2025"} and _delivered_sessions(current) == {"2026"}
    store = GoldenStore(sqlite_store)
    try:
        assert _stored_years(store, "2024-2025") == {"2025"} and _stored_years(store, "2025-2026") == {"2026"}
        archive = store.latest_version("lakeside", "2024-2025").archive_path
        assert "2025" in (tmp_path / archive / "sis" / "academicSessions.csv").read_text()
    finally:
        store.dispose()


def test_a_drop_of_another_year_is_refused_and_nothing_is_committed(tmp_path, passport_home, sqlite_store):
    # One folder for every year, holding this year's drop: a backfill of last year must not take it.
    generate_oneroster_district(tmp_path / "drop", 30, seed=7, school_year="2025-2026")
    write_integration(tmp_path / "integrations", "lakeside", [
        {"name": "sis", "type": "csv", "path": str(tmp_path / "drop")}], school_years=YEARS)
    store = GoldenStore(sqlite_store)
    try:
        with dg.instance_for_test() as instance:
            assert run_sync(instance, "lakeside", "2025-2026")["version"] == 1
            before = _snapshot(store)
            refused = run_sync(instance, "lakeside", "2024-2025")
        assert refused["status"] == "failed validation" and refused["version"] is None
        assert "drop_is_valid" in refused["failed_checks"]
        assert refused["deliveries"] == []
        findings = refused["checks"]["drop_is_valid"]["metadata"]["findings"]
        session = next(f for f in findings if f["rule"] == "academicSessions.school_year")
        assert (session["source"], session["file"], session["line"]) == ("sis", "academicSessions.csv", 2)
        assert "school year 2025-2026, not 2024-2025" in session["message"]
        assert any(f["rule"] == "classes.school_year" and f["file"] == "classes.csv" for f in findings)
        assert _snapshot(store) == before  # the golden store is as it was: nothing for 2024-2025
        assert not any(before["2024-2025"][0].values()) and before["2024-2025"][1] == []
    finally:
        store.dispose()


def test_an_api_source_syncs_each_year_from_the_sis(tmp_path, passport_home, sqlite_store, monkeypatch):
    years = make_district_years(tmp_path / "sis", tuple(YEARS), students=30)
    with start_oneroster_fake(served_years(years["2025-2026"], years["2024-2025"]), version="1.2") as server:
        config, env = oneroster_source_config(server, name="sis")
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        write_integration(tmp_path / "integrations", "lakeside", [config], school_years=YEARS)
        with dg.instance_for_test() as instance:
            summaries = {year: run_sync(instance, "lakeside", year) for year in YEARS}
            event = instance.get_latest_materialization_event(dg.AssetKey("oneroster_extracts"))
            scope = event.asset_materialization.metadata["school_year"].value
    for year, summary in summaries.items():
        assert summary["status"] == "successfully in production", summary["errors"]
        assert summary["checks"]["sessions_in_school_year"]["passed"]
        assert _delivered_sessions(summary) == {year[-4:]}
    assert "filter=schoolYear='2026'" in scope["sis"]  # the last run's extract says how it asked
    store = GoldenStore(sqlite_store)
    try:
        assert _stored_years(store, "2024-2025") == {"2025"} and _stored_years(store, "2025-2026") == {"2026"}
    finally:
        store.dispose()


def test_an_api_answer_of_another_year_is_refused_and_nothing_is_committed(tmp_path, passport_home, sqlite_store,
                                                                          monkeypatch):
    years = make_district_years(tmp_path / "sis", tuple(YEARS), students=30)
    # A provider that serves its current year whatever SchoolYear asks for.
    with start_xpress_fake(years["2025-2026"], past_years=(years["2024-2025"],), ignore_school_year=True) as server:
        config, env = xpress_source_config(server)
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        write_integration(tmp_path / "integrations", "lakeside", [config], school_years=YEARS)
        with dg.instance_for_test() as instance:
            refused = run_sync(instance, "lakeside", "2024-2025")
    assert refused["status"] == "failed validation" and refused["version"] is None
    assert refused["failed_checks"] == ["sessions_in_school_year"]
    findings = refused["checks"]["sessions_in_school_year"]["metadata"]["findings"]
    session = next(f for f in findings if f["rule"] == "academicSessions.school_year")
    assert session["source"] == "xpress" and "of school year 2025-2026, not 2024-2025" in session["message"]
    store = GoldenStore(sqlite_store)
    try:
        assert store.versions("lakeside", "2024-2025") == []
        assert not any(store.count_records("lakeside", "2024-2025").values())
    finally:
        store.dispose()
