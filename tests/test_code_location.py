"""The code location loads cleanly: no deprecation warnings from our code, the expected assets."""

from __future__ import annotations

import importlib
import sys
import warnings

import dagster as dg
import pytest
import yaml


@pytest.fixture
def fresh_imports():
    """Our modules imported anew for the test, and the originals put back after it, so that later
    tests keep comparing against the same classes."""
    saved = {name: module for name, module in sys.modules.items() if name.startswith("passport_pipelines")}
    for name in saved:
        del sys.modules[name]
    yield
    for name in [m for m in sys.modules if m.startswith("passport_pipelines")]:
        del sys.modules[name]
    sys.modules.update(saved)


def test_definitions_load_without_warnings_from_our_code(fresh_imports):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module("passport_pipelines.definitions")
        defs = module.defs
        repo = defs.get_repository_def()
        repo.get_all_jobs()
    ours = [w for w in caught if "passport_pipelines" in str(w.filename)]
    assert ours == [], [str(w.message) for w in ours]
    # Besides one asset per CSV destination named in the integration files (destinations/<name>).
    keys = {k.to_user_string() for k in defs.resolve_all_asset_keys() if k.path[0] != "destinations"}
    extracts = {f"{t}_extracts" for t in ("powerschool", "oneroster", "synergy", "xpress", "google")}
    assert keys == extracts | {"integration_settings", "source_extracts", "normalized_rosters", "roster_changes",
                               "golden_records",
                               "duplicate_review_queue", "oneroster_exports", "sis_writeback"}
    # One pool per SIS kind: concurrent districts never hammer one vendor's API beyond its limit.
    graph = defs.resolve_asset_graph()
    for name in extracts:
        node = graph.get(dg.AssetKey(name))
        assert node.pools == {f"sis_{name.removesuffix('_extracts')}"}
    assert defs.resolve_job_def("test_connection") is not None
    assert defs.resolve_job_def("resolve_duplicate") is not None
    assert defs.resolve_job_def("undo_duplicate_decision") is not None
    for job in ("preview_sync", "commit_approved_sync", "approve_sync", "reject_sync"):
        assert defs.resolve_job_def(job) is not None
    assert defs.resolve_job_def("preview_sync").tags["passport/preview"] == "true"
    assert defs.resolve_schedule_def("district_syncs").cron_schedule == "*/5 * * * *"
    for sensor in ("integration_registry", "approval_sensor", "new_drops", "abandoned_sync_runs",
                   "notify_finished_syncs", "notify_failed_syncs"):
        assert defs.resolve_sensor_def(sensor) is not None
    checks = {k.name for k in defs.resolve_asset_graph().asset_check_keys}
    assert checks == {"drop_is_valid", "references_resolve", "canonical_schema", "sessions_in_school_year",
                      "data_requirements", "review_queue_growth", "sync_hold"}
    # Every check is recorded on its district × school year partition, never on the asset as a whole.
    for key in defs.resolve_asset_graph().asset_check_keys:
        assert defs.resolve_asset_graph().get_check_spec(key).partitions_def is not None, key
    # Every step of a sync runs in the run's process: no code-location import per step.
    for job in ("roster_sync", "preview_sync", "commit_approved_sync", "retry_deliveries"):
        assert defs.resolve_job_def(job).executor_def.name == "in_process"


def test_production_instance_config_has_the_queue_and_pools(tmp_path, monkeypatch):
    from pathlib import Path

    config = yaml.safe_load((Path(__file__).parents[1] / "deploy" / "dagster.yaml").read_text())
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("DAGSTER_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
    from dagster._core.instance.config import dagster_instance_config

    parsed, _ = dagster_instance_config(str(tmp_path))
    assert parsed["concurrency"]["pools"]["default_limit"] >= 1
    limits = parsed["concurrency"]["runs"]["tag_concurrency_limits"]
    assert {"key": "dagster/partition/district", "value": {"applyLimitPerUniqueValue": True}, "limit": 1} in limits


def test_each_destination_named_in_the_integration_files_is_its_own_asset(tmp_path, passport_home):
    from passport_pipelines.definitions import build_defs
    from tests.conftest import write_integration

    write_integration(tmp_path / "integrations", "lakeside", [{"name": "sis", "type": "csv", "path": "drop"}],
                      destinations=[{"name": "library", "type": "oneroster-1.1-csv"},
                                    {"name": "lms", "type": "oneroster-1.2-csv"}])
    write_integration(tmp_path / "integrations", "hillview", [{"name": "sis", "type": "csv", "path": "drop"}],
                      destinations=[{"name": "lms", "type": "oneroster-1.1-csv"}])
    location = build_defs()
    destinations = {k.to_user_string() for k in location.resolve_all_asset_keys() if k.path[0] == "destinations"}
    assert destinations == {"destinations/library", "destinations/lms"}
    # In the sync job, delivered by the one delivery step; and each can be materialized on its own.
    job = location.resolve_job_def("roster_sync")
    assert {dg.AssetKey(["destinations", "lms"]), dg.AssetKey("oneroster_exports")} <= set(job.asset_layer.selected_asset_keys)
    assert location.resolve_job_def("retry_deliveries") is not None


def test_every_asset_has_the_sync_group_an_owner_a_stage_and_a_kind():
    from passport_pipelines.definitions import build_defs
    from passport_pipelines.jobs.asset_groups import OWNERS, STAGE_TAG, STAGES, SYNC_GROUP

    location = build_defs(destinations=["lms"])
    graph = location.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    assert dg.AssetKey(["destinations", "lms"]) in keys
    for key in keys:
        node = graph.get(key)
        assert node.group_name == SYNC_GROUP, key
        assert list(node.owners) == list(OWNERS), key
        assert node.tags.get(STAGE_TAG) in STAGES, key
        assert any(tag.startswith("dagster/kind/") for tag in node.tags), key
    # The checks that can be executed alone are steps of their own in the sync, still recorded per partition.
    steps = {n.name for n in location.resolve_job_def("roster_sync").graph.node_defs}
    separate = {k.name for k in graph.asset_check_keys if f"{k.asset_key.to_python_identifier()}_{k.name}" in steps}
    assert separate == {"canonical_schema", "sessions_in_school_year", "data_requirements", "review_queue_growth"}
