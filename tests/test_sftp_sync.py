"""A district whose drop arrives over SFTP, synced end to end against a real SFTP server."""

from __future__ import annotations

import shutil

import dagster as dg
import pytest

from passport_pipelines.store.golden_store import GoldenStore
from passport_pipelines import settings
from tests.conftest import write_integration

pytestmark = pytest.mark.slow  # whole syncs through Dagster; CI runs them, `pytest -m 'not slow'` skips them
from tests.district_files import make_district, read_rows
from tests.fakes.sftp_server import running_sftp_server
from tests.sync_harness import run_sync


def test_sync_from_an_sftp_drop_archives_the_zip_it_fetched(tmp_path, passport_home, monkeypatch):
    root = tmp_path / "sftp_root"
    (root / "outbox").mkdir(parents=True)
    drop = make_district(tmp_path / "drop", students=20)
    shutil.make_archive(str(root / "outbox" / "roster"), "zip", drop)
    monkeypatch.setenv("LAKESIDE_SFTP_PASSWORD", "s3cret")
    with running_sftp_server(root) as server, dg.instance_for_test() as instance:
        write_integration(tmp_path / "integrations", "lakeside", [{
            "name": "nightly", "type": "sftp", "host": server.host, "port": server.port,
            "username": server.username, "password": "env:LAKESIDE_SFTP_PASSWORD",
            "remote_path": "/outbox", "host_key": server.host_key_line,
        }])
        summary = run_sync(instance, "lakeside")
        logs = "\n".join(str(e.user_message) for e in instance.all_logs(summary["run_id"]))
    assert summary["status"] == "successfully in production", summary["errors"]
    _, users = read_rows(drop / "users.csv")
    assert summary["changes"]["users"]["added"] == len(users)
    version = GoldenStore(settings.database_url()).latest_version("lakeside", "2025-2026")
    assert (tmp_path / version.archive_path / "nightly" / "roster.zip").exists()
    assert "s3cret" not in logs


def test_a_wrong_host_key_fails_the_sync_and_commits_nothing(tmp_path, passport_home, monkeypatch):
    root = tmp_path / "sftp_root"
    (root / "outbox").mkdir(parents=True)
    make_district(root / "outbox", students=10)
    monkeypatch.setenv("LAKESIDE_SFTP_PASSWORD", "s3cret")
    with running_sftp_server(root) as server, running_sftp_server(tmp_path) as impostor, \
            dg.instance_for_test() as instance:
        write_integration(tmp_path / "integrations", "lakeside", [{
            "name": "nightly", "type": "sftp", "host": server.host, "port": server.port,
            "username": server.username, "password": "env:LAKESIDE_SFTP_PASSWORD",
            "remote_path": "/outbox", "host_key": impostor.host_key_line,
        }])
        summary = run_sync(instance, "lakeside")
    assert summary["status"] == "failed validation"
    [finding] = summary["checks"]["drop_is_valid"]["metadata"]["findings"]
    assert finding["rule"] == "drop.fetch" and "host key" in finding["message"]
    assert GoldenStore(settings.database_url()).latest_version("lakeside", "2025-2026") is None
