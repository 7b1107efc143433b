"""Test Connection for CSV and SFTP drops, through the CLI (API sources are checked in each
connector's own tests and in tests/test_api_sync.py)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from passport_pipelines.cli.main import cli
from tests.conftest import write_integration
from tests.district_files import make_district
from tests.fakes.sftp_server import running_sftp_server


def _run(*args):
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_csv_folder_found_and_missing(passport_home, tmp_path):
    drop = make_district(tmp_path / "drop", students=5)
    write_integration(tmp_path / "integrations", "lakeside", [
        {"name": "good", "type": "csv", "path": str(drop)},
        {"name": "gone", "type": "csv", "path": str(tmp_path / "nowhere")},
    ])
    code, out = _run("test-connection", "lakeside", "--source", "good")
    assert code == 0, out
    assert "lakeside / good (csv): ok" in out and "manifest.csv found" in out
    code, out = _run("test-connection", "lakeside", "--json")
    assert code == 1
    result = json.loads(out)
    assert [s["ok"] for s in result["sources"]] == [True, False]
    assert result["sources"][1]["failure"] == "drop_unavailable"
    assert "does not exist" in result["sources"][1]["steps"][0]["detail"]


def test_unknown_source_is_named(passport_home, tmp_path):
    write_integration(tmp_path / "integrations", "lakeside", [{"name": "good", "type": "csv", "path": "x"}])
    code, out = _run("test-connection", "lakeside", "--source", "nope")
    assert code == 1 and "no source named 'nope'" in out


def test_sftp_checks_host_key_and_credentials_without_downloading(passport_home, tmp_path, monkeypatch):
    root = tmp_path / "sftp-root"
    (root / "outbox").mkdir(parents=True)
    (root / "outbox" / "roster.zip").write_bytes(b"PK")
    with running_sftp_server(root, username="district", password="right") as server:
        base = {"type": "sftp", "host": "127.0.0.1", "port": server.port, "username": "district",
                "password": "env:LAKESIDE_SFTP", "remote_path": "/outbox"}
        write_integration(tmp_path / "integrations", "lakeside", [
            {"name": "trusted", **base, "host_key": server.host_key_line},
            {"name": "wrong_key", **base,
             "host_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOFBw1lIa3Hl0Yb2ZLw/2Dpe0bvnA9LGb6M4uXmCFVr1"},
        ])
        monkeypatch.setenv("LAKESIDE_SFTP", "right")
        code, out = _run("test-connection", "lakeside", "--source", "trusted")
        assert code == 0, out
        assert "1 CSV/zip file(s)" in out
        code, out = _run("test-connection", "lakeside", "--source", "wrong_key")
        assert code == 1 and "host key mismatch" in out
        monkeypatch.setenv("LAKESIDE_SFTP", "wrong")
        code, out = _run("test-connection", "lakeside", "--source", "trusted")
        assert code == 1 and "authentication failed" in out and "wrong" not in out.replace("wrong_key", "")
    assert not (passport_home / "artifacts").exists() or not any((passport_home / "artifacts").rglob("roster.zip"))


def _oneroster(name: str, base_url: str, **extra) -> dict:
    return {"name": name, "type": "oneroster", "version": "1.2", "base_url": base_url,
            "token_url": f"{base_url}/oauth/token", "client_id": "passport", "client_secret": "env:OR_SECRET",
            "timeout_seconds": 2, **extra}


def test_api_sources_say_exactly_what_failed(passport_home, tmp_path, monkeypatch):
    import socket

    from tests.fakes.http_fake import FakeApiServer, FakeResponse

    monkeypatch.setenv("OR_SECRET", "s3cret-value")
    with socket.socket() as closed, FakeApiServer(lambda r: FakeResponse(200, {}), tls=True, tmp=tmp_path) as tls:
        closed.bind(("127.0.0.1", 0))
        write_integration(tmp_path / "integrations", "lakeside", [
            _oneroster("refused", f"http://127.0.0.1:{closed.getsockname()[1]}"),
            _oneroster("no_dns", "https://sis.lakeside.invalid"),
            _oneroster("untrusted", tls.url),
            _oneroster("no_secret", tls.url, client_secret="env:NOT_SET_FOR_THIS_TEST"),
        ])
        code, out = _run("test-connection", "lakeside", "--json")
    assert code == 1
    result = {s["source"]: s for s in json.loads(out)["sources"]}
    assert {name: s["failure"] for name, s in result.items()} == {
        "refused": "connection_refused", "no_dns": "unresolvable_host", "untrusted": "tls",
        "no_secret": "missing_secret"}
    assert "certificate" in result["untrusted"]["hint"]
    assert "s3cret-value" not in out
