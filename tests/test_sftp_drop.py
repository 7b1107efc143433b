"""download_sftp_drop against a real SFTP server (tests/fakes/sftp_server.py)."""

from __future__ import annotations

import logging
import os
import socket
import zipfile
from pathlib import Path
from typing import Any, Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from passport_pipelines.config.integration import Integration
from passport_pipelines.config.sources import SftpSource
from passport_pipelines.sources.drops.errors import DropFetchError
from passport_pipelines.sources.drops.sftp import download_sftp_drop
from tests.fakes.sftp_server import SftpServerInfo, running_sftp_server

PASSWORD_VAR = "PASSPORT_TEST_SFTP_PASSWORD"
PASSPHRASE_VAR = "PASSPORT_TEST_SFTP_KEY_PASSPHRASE"
PASSPHRASE = "key-passphrase-7731"
USERS_CSV = b"sourcedId,username\nu1,ada\n"
ORGS_CSV = b"sourcedId,name\no1,Lincoln High\n"


def _public_line(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


def _zip(path: Path, member: str, mtime: int) -> bytes:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(member, USERS_CSV)
    os.utime(path, (mtime, mtime))
    return path.read_bytes()


@pytest.fixture(scope="module")
def client_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    key = Ed25519PrivateKey.generate()
    path = tmp_path_factory.mktemp("keys") / "id_ed25519"
    path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.BestAvailableEncryption(PASSPHRASE.encode()),
    ))
    return path, _public_line(key)


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The server's root: one folder per scenario."""
    root = tmp_path_factory.mktemp("sftp-root")
    loose = root / "drops" / "loose"
    (loose / "archive").mkdir(parents=True)
    (loose / "users.csv").write_bytes(USERS_CSV)
    (loose / "orgs.csv").write_bytes(ORGS_CSV)
    (loose / "README.txt").write_text("not a roster file")
    (loose / ".users.csv.uploading.csv").write_bytes(b"half")
    (loose / "archive" / "old.csv").write_bytes(b"old")

    zips = root / "drops" / "zips"
    zips.mkdir(parents=True)
    (zips / "stray.csv").write_bytes(ORGS_CSV)  # ignored: a zip wins
    _zip(zips / "drop-a.zip", "users.csv", 1_700_000_000)
    newest = _zip(zips / "drop-b.zip", "users.csv", 1_700_000_300)
    # Newest by name but not by mtime: the fetcher must go by mtime.
    _zip(zips / "drop-c.zip", "users.csv", 1_700_000_100)

    (root / "drops" / "nothing").mkdir(parents=True)
    (root / "drops" / "nothing" / "notes.txt").write_text("no csv here")
    return {"root": root, "newest_zip": newest}


@pytest.fixture(scope="module")
def server(remote: dict[str, Any], client_key: tuple[Path, str]) -> Iterator[SftpServerInfo]:
    with running_sftp_server(remote["root"], authorized_key=client_key[1]) as info:
        yield info


@pytest.fixture
def password_env(monkeypatch: pytest.MonkeyPatch, server: SftpServerInfo) -> None:
    monkeypatch.setenv(PASSWORD_VAR, server.password)


def _integration(tmp_path: Path, **source: Any) -> tuple[SftpSource, Integration]:
    integration = Integration.model_validate({
        "district": "lincoln-usd",
        "name": "Lincoln USD",
        "school_years": ["2025-2026"],
        "sources": [{"name": "roster", "type": "sftp", **source}],
        "file": tmp_path / "integration.yml",
    })
    sftp = integration.source("roster")
    assert isinstance(sftp, SftpSource)
    return sftp, integration


def _config(server: SftpServerInfo, tmp_path: Path, remote_path: str = "/drops/loose", **overrides: Any) -> tuple[SftpSource, Integration]:
    """Password auth, host key from a known_hosts file given relative to the integration file."""
    (tmp_path / "known_hosts").write_text(server.known_hosts_line + "\n")
    source: dict[str, Any] = {
        "host": server.host,
        "port": server.port,
        "username": server.username,
        "password": f"env:{PASSWORD_VAR}",
        "remote_path": remote_path,
        "known_hosts": "known_hosts",
        "timeout_seconds": 5,
    }
    source.update(overrides)
    return _integration(tmp_path, **{k: v for k, v in source.items() if v is not None})


def _fetch_error(source: SftpSource, integration: Integration, dest: Path) -> str:
    with pytest.raises(DropFetchError) as info:
        download_sftp_drop(source, integration, dest)
    assert not dest.exists() or not any(dest.iterdir()), "nothing may be downloaded on failure"
    return str(info.value)


def test_downloads_the_loose_csvs_of_the_folder(server: SftpServerInfo, password_env: None, tmp_path: Path) -> None:
    dest = tmp_path / "out" / "drop"
    paths = download_sftp_drop(*_config(server, tmp_path), dest)

    assert paths == [dest / "orgs.csv", dest / "users.csv"]
    assert (dest / "users.csv").read_bytes() == USERS_CSV
    assert (dest / "orgs.csv").read_bytes() == ORGS_CSV
    assert sorted(p.name for p in dest.iterdir()) == ["orgs.csv", "users.csv"]  # no temp files, not recursive


def test_takes_only_the_newest_zip_by_mtime(server: SftpServerInfo, password_env: None, remote: dict[str, Any], tmp_path: Path) -> None:
    dest = tmp_path / "drop"
    paths = download_sftp_drop(*_config(server, tmp_path, "/drops/zips"), dest)

    assert paths == [dest / "drop-b.zip"]
    assert paths[0].read_bytes() == remote["newest_zip"]
    assert [p.name for p in dest.iterdir()] == ["drop-b.zip"]


def test_pinned_host_key_line_is_enough(server: SftpServerInfo, password_env: None, tmp_path: Path) -> None:
    source, integration = _config(server, tmp_path, known_hosts=None, host_key=server.host_key_line)
    assert len(download_sftp_drop(source, integration, tmp_path / "drop")) == 2


def test_password_comes_from_the_environment(server: SftpServerInfo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    source, integration = _config(server, tmp_path)
    monkeypatch.delenv(PASSWORD_VAR, raising=False)
    message = _fetch_error(source, integration, tmp_path / "drop")
    assert PASSWORD_VAR in message

    monkeypatch.setenv(PASSWORD_VAR, server.password)
    assert len(download_sftp_drop(source, integration, tmp_path / "drop")) == 2


def test_private_key_auth(server: SftpServerInfo, client_key: tuple[Path, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(PASSWORD_VAR, raising=False)
    monkeypatch.setenv(PASSPHRASE_VAR, PASSPHRASE)
    source, integration = _config(
        server, tmp_path, password=None,
        private_key=str(client_key[0]), private_key_passphrase=f"env:{PASSPHRASE_VAR}",
    )
    assert [p.name for p in download_sftp_drop(source, integration, tmp_path / "drop")] == ["orgs.csv", "users.csv"]


def test_wrong_password_is_an_authentication_error_without_the_password(
    server: SftpServerInfo, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "not-the-password-5519"
    monkeypatch.setenv(PASSWORD_VAR, wrong)
    message = _fetch_error(*_config(server, tmp_path), tmp_path / "drop")

    assert "authentication failed" in message
    assert f"sftp://district@127.0.0.1:{server.port}/drops/loose" in message
    assert wrong not in message and server.password not in message
    assert wrong not in caplog.text


@pytest.mark.parametrize("where", ["host_key", "known_hosts"])
def test_host_key_mismatch_is_refused(server: SftpServerInfo, password_env: None, tmp_path: Path, where: str) -> None:
    other = _public_line(Ed25519PrivateKey.generate())
    if where == "host_key":
        source, integration = _config(server, tmp_path, known_hosts=None, host_key=other)
    else:
        source, integration = _config(server, tmp_path)
        (tmp_path / "known_hosts").write_text(f"[{server.host}]:{server.port} {other}\n")
    message = _fetch_error(source, integration, tmp_path / "drop")

    assert "host key mismatch" in message
    assert "ssh-ed25519" in message and "does not match the configured key" in message


@pytest.mark.parametrize("known_hosts", ["", "127.0.0.1 {key}\n"], ids=["empty", "entry-for-port-22-only"])
def test_unknown_host_key_is_refused(server: SftpServerInfo, password_env: None, tmp_path: Path, known_hosts: str) -> None:
    source, integration = _config(server, tmp_path)
    (tmp_path / "known_hosts").write_text(known_hosts.format(key=server.host_key_line))
    message = _fetch_error(source, integration, tmp_path / "drop")

    assert "unknown host key" in message and "ssh-ed25519" in message
    assert str(tmp_path / "known_hosts") in message


def test_missing_remote_folder(server: SftpServerInfo, password_env: None, tmp_path: Path) -> None:
    message = _fetch_error(*_config(server, tmp_path, "/drops/missing"), tmp_path / "drop")
    assert "/drops/missing" in message and "does not exist" in message


def test_folder_without_csv_or_zip(server: SftpServerInfo, password_env: None, tmp_path: Path) -> None:
    message = _fetch_error(*_config(server, tmp_path, "/drops/nothing"), tmp_path / "drop")
    assert "no .csv or .zip files" in message


def test_connection_refused(server: SftpServerInfo, password_env: None, tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    message = _fetch_error(*_config(server, tmp_path, port=closed_port), tmp_path / "drop")
    assert "connection refused" in message and f"127.0.0.1:{closed_port}" in message


def test_silent_server_times_out(server: SftpServerInfo, password_env: None, tmp_path: Path) -> None:
    with socket.socket() as silent:  # accepts TCP connections (backlog) but never says anything
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        source, integration = _config(server, tmp_path, port=silent.getsockname()[1], timeout_seconds=0.5)
        message = _fetch_error(source, integration, tmp_path / "drop")
    assert "timed out after 0.5s" in message


def test_unresolvable_host(server: SftpServerInfo, password_env: None, tmp_path: Path) -> None:
    message = _fetch_error(*_config(server, tmp_path, host="no-such-host.invalid"), tmp_path / "drop")
    assert "cannot resolve host name 'no-such-host.invalid'" in message


def test_failed_transfer_leaves_no_files(server: SftpServerInfo, password_env: None, remote: dict[str, Any], tmp_path: Path) -> None:
    broken = remote["root"] / "drops" / "broken"
    broken.mkdir(exist_ok=True)
    (broken / "a.csv").write_bytes(USERS_CSV)  # arrives first...
    if not (broken / "z.csv").is_symlink():
        (broken / "z.csv").symlink_to(broken / "gone.csv")  # ...then this one cannot be read
    message = _fetch_error(*_config(server, tmp_path, "/drops/broken"), tmp_path / "drop")
    assert "transfer failed" in message


def test_a_drop_over_the_size_limit_is_not_downloaded(server: SftpServerInfo, password_env: None, tmp_path: Path) -> None:
    # users.csv and orgs.csv hold 57 bytes together.
    message = _fetch_error(*_config(server, tmp_path, limits={"max_total_size": 40}), tmp_path / "drop")
    assert "the drop is 57 bytes, more than limits.max_total_size (40 bytes); nothing was downloaded" in message
    assert len(download_sftp_drop(*_config(server, tmp_path, limits={"max_total_size": 57}), tmp_path / "ok")) == 2
