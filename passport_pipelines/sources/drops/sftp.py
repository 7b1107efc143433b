"""Fetch a district's OneRoster CSV drop from an SFTP server.

The server's host key is always checked against the keys configured for the integration,
and only those: the machine's own ~/.ssh/known_hosts and SSH agent are never consulted, so a
sync behaves the same on every host that runs it.
"""

from __future__ import annotations

import errno
import logging
import os
import posixpath
import socket
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import paramiko
from paramiko.hostkeys import HostKeyEntry, InvalidHostKey
from paramiko.pkey import UnknownKeyType
from paramiko.ssh_exception import NoValidConnectionsError

from passport_pipelines.artifacts.disk_space import DiskFullError, is_disk_full
from passport_pipelines.config.integration import Integration
from passport_pipelines.config.package_limits import size_text
from passport_pipelines.config.secrets import MissingSecretError, resolve_secret
from passport_pipelines.config.sources import SftpSource
from passport_pipelines.sources.drops.errors import DropFetchError

log = logging.getLogger(__name__)

Fail = Callable[[str], DropFetchError]


class _UnknownHostKey(paramiko.SSHException):
    def __init__(self, key: paramiko.PKey) -> None:
        super().__init__("unknown host key")
        self.key = key


class _RejectUnknownHost(paramiko.RejectPolicy):
    """RejectPolicy that keeps the offered key, so the error can say what the server sent."""

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        raise _UnknownHostKey(key)


def sftp_location(source: SftpSource) -> str:
    host = f"[{source.host}]" if ":" in source.host else source.host
    return f"sftp://{source.username}@{host}:{source.port}/{source.remote_path.lstrip('/')}"


@contextmanager
def sftp_session(source: SftpSource, integration: Integration, fail: Fail) -> Iterator[paramiko.SFTPClient]:
    """An SFTP session on a connection whose host key was checked against the configured keys."""
    try:
        password = resolve_secret(source.password)
        passphrase = resolve_secret(source.private_key_passphrase)
    except MissingSecretError as exc:
        raise fail(str(exc)) from None
    pkey = None
    if source.private_key is not None:
        pkey = _load_private_key(integration.resolve_path(source.private_key), passphrase, fail)
    with paramiko.SSHClient() as client:
        trusted = _trust_configured_host_keys(client, source, integration, fail)
        client.set_missing_host_key_policy(_RejectUnknownHost())
        _connect(client, source, password, pkey, trusted, fail)
        with client.open_sftp() as sftp:
            # Without this a stalled server would hang the run forever mid-transfer.
            sftp.get_channel().settimeout(source.timeout_seconds)
            yield sftp


def download_sftp_drop(source: SftpSource, integration: Integration, dest_dir: Path) -> list[Path]:
    """Download the drop in ``source.remote_path`` into ``dest_dir``; returns the local files, sorted.

    The newest ``.zip`` in the folder if there is one, else every ``.csv`` in it (not recursive).
    Either all files arrive complete or none is left in ``dest_dir``. A drop bigger than the
    source's ``limits.max_total_size`` is refused before the transfer, and the transfer stops as
    soon as more than that arrives (a file that grew after the listing). A full local disk raises
    DiskFullError.
    """
    where = sftp_location(source)

    def fail(what: str) -> DropFetchError:
        return DropFetchError(f"SFTP drop {where}: {what}")

    timeout = source.timeout_seconds
    try:
        with sftp_session(source, integration, fail) as sftp:
            paths = _download(sftp, source.remote_path, dest_dir, int(source.limits.max_total_size), fail)
    except DropFetchError:
        raise
    except TimeoutError:
        raise fail(f"timed out after {timeout:g}s waiting for the server during the transfer") from None
    except (OSError, paramiko.SSHException) as exc:
        if is_disk_full(exc):
            raise DiskFullError(f"the download of {where}", dest_dir) from None
        raise fail(f"transfer failed: {exc}") from None
    log.info("fetched %d file(s) from %s", len(paths), where)
    return paths


def _remote_listing(source: SftpSource, integration: Integration) -> list[paramiko.SFTPAttributes]:
    """The entries of the source's remote folder (host key checked, credentials tried), downloading
    nothing. Raises DropFetchError saying what failed."""
    where = sftp_location(source)

    def fail(what: str) -> DropFetchError:
        return DropFetchError(f"SFTP drop {where}: {what}")

    try:
        with sftp_session(source, integration, fail) as sftp:
            return sftp.listdir_attr(source.remote_path)
    except DropFetchError:
        raise
    except FileNotFoundError:
        raise fail("the remote folder does not exist") from None
    except (OSError, paramiko.SSHException) as exc:
        raise fail(f"cannot list the remote folder: {exc}") from None


def check_sftp_connection(source: SftpSource, integration: Integration) -> str:
    """Connect and look at the remote folder; returns what is there. Raises DropFetchError."""
    names = [e.filename for e in _remote_listing(source, integration)]
    drops = [n for n in names if n.lower().endswith((".zip", ".csv"))]
    return f"host key and credentials accepted; {len(drops)} CSV/zip file(s) in the remote path"


def _connect(
    client: paramiko.SSHClient,
    source: SftpSource,
    password: str | None,
    pkey: paramiko.PKey | None,
    trusted: str,
    fail: Fail,
) -> None:
    timeout = source.timeout_seconds
    try:
        client.connect(
            source.host,
            port=source.port,
            username=source.username,
            password=password,
            pkey=pkey,
            allow_agent=False,
            look_for_keys=False,
            timeout=timeout,
            banner_timeout=timeout,
            auth_timeout=timeout,
            channel_timeout=timeout,
        )
    except socket.gaierror:
        raise fail(f"cannot resolve host name {source.host!r}") from None
    except NoValidConnectionsError as exc:
        refused = all(e.errno == errno.ECONNREFUSED for e in exc.errors.values())
        raise fail("connection refused (is the server running on that port?)" if refused
                   else "host unreachable") from None
    except TimeoutError:
        raise fail(f"timed out after {timeout:g}s connecting") from None
    except paramiko.BadHostKeyException as exc:
        raise fail(
            f"host key mismatch: the server offered an {exc.key.get_name()} key ({exc.key.fingerprint}) "
            f"that does not match the configured key ({exc.expected_key.get_name()} "
            f"{exc.expected_key.fingerprint}); refusing to connect"
        ) from None
    except _UnknownHostKey as exc:
        raise fail(
            f"unknown host key: the server offered an {exc.key.get_name()} key ({exc.key.fingerprint}) "
            f"but there is no key for {_host_key_name(source)} in the {trusted}; refusing to connect"
        ) from None
    except paramiko.BadAuthenticationType as exc:
        raise fail(f"authentication failed: the server only allows {', '.join(exc.allowed_types)}") from None
    except paramiko.AuthenticationException as exc:
        if "timeout" in str(exc).lower():
            raise fail(f"timed out after {timeout:g}s waiting for authentication") from None
        using = "private key" if pkey is not None else "password"
        raise fail(f"authentication failed for user {source.username!r} (using {using})") from None
    except paramiko.SSHException as exc:
        # paramiko reports a silent server either as the banner read's timeout or, when its own
        # handshake deadline fires first, only as "No existing session".
        if str(exc) == "No existing session" or isinstance(exc.__context__, TimeoutError):
            raise fail(f"timed out after {timeout:g}s waiting for the SSH handshake "
                       "(is an SSH server listening on that port?)") from None
        if "banner" in str(exc):
            raise fail("the server closed the connection without an SSH greeting "
                       "(is an SSH server listening on that port?)") from None
        raise fail(f"SSH connection failed: {exc}") from None
    except OSError as exc:
        raise fail(f"connection failed: {exc.strerror or exc}") from None


def _host_key_name(source: SftpSource) -> str:
    # The name OpenSSH (and paramiko) file the key under in known_hosts.
    return source.host if source.port == 22 else f"[{source.host}]:{source.port}"


def _trust_configured_host_keys(
    client: paramiko.SSHClient, source: SftpSource, integration: Integration, fail: Fail
) -> str:
    """Load the configured keys into the client; returns where they came from, for messages."""
    keys = client.get_host_keys()
    trusted = []
    if source.known_hosts is not None:
        path = integration.resolve_path(source.known_hosts)
        try:
            keys.load(str(path))
        except OSError as exc:
            raise fail(f"cannot read known_hosts file {path}: {exc.strerror or exc}") from None
        trusted.append(f"known_hosts file {path}")
    if source.host_key is not None:
        # Added after known_hosts so that an explicit pin wins for its key type.
        line = f"{_host_key_name(source)} {' '.join(source.host_key.split()[:2])}"
        try:
            entry = HostKeyEntry.from_line(line)
        except (InvalidHostKey, paramiko.SSHException, UnknownKeyType, ValueError):
            entry = None
        if entry is None:
            raise fail("host_key is not a public key line like 'ssh-ed25519 AAAA...'")
        keys.add(_host_key_name(source), entry.key.get_name(), entry.key)
        trusted.append("configured host_key")
    return " or ".join(trusted)


def _load_private_key(path: Path, passphrase: str | None, fail: Fail) -> paramiko.PKey:
    try:
        return paramiko.PKey.from_path(path, passphrase.encode() if passphrase is not None else None)
    except OSError as exc:
        raise fail(f"cannot read private key file {path}: {exc.strerror or exc}") from None
    except (TypeError, ValueError, paramiko.SSHException, UnknownKeyType) as exc:
        # cryptography signals a missing passphrase with TypeError.
        why = ("it is encrypted and no private_key_passphrase is set"
               if passphrase is None and isinstance(exc, TypeError)
               else "wrong passphrase or unsupported key format")
        raise fail(f"cannot load private key {path}: {why}") from None


def _drop_files(entries: list[paramiko.SFTPAttributes]) -> list[paramiko.SFTPAttributes]:
    """The files that make the drop: the newest .zip if there is one, else every .csv."""
    # Dot files are skipped like a shell's *.csv would: they include half-uploaded temp files.
    files = [e for e in entries
             if not stat.S_ISDIR(e.st_mode or 0) and not e.filename.startswith(".") and "/" not in e.filename]
    zips = [e for e in files if e.filename.lower().endswith(".zip")]
    if zips:
        return [max(zips, key=lambda e: (e.st_mtime or 0, e.filename))]
    return sorted((e for e in files if e.filename.lower().endswith(".csv")), key=lambda e: e.filename)


def list_sftp_drop(source: SftpSource, integration: Integration) -> list[tuple[str, int, float]]:
    """The files the next fetch would download, as (name, size, mtime), downloading nothing: what
    the drop sensor compares to tell a new drop. Raises DropFetchError."""
    return [(e.filename, e.st_size or 0, float(e.st_mtime or 0))
            for e in _drop_files(_remote_listing(source, integration))]


def _download(sftp: paramiko.SFTPClient, remote_path: str, dest_dir: Path, max_total: int, fail: Fail) -> list[Path]:
    try:
        folder = sftp.stat(remote_path)
        if not stat.S_ISDIR(folder.st_mode or 0):
            raise fail("the remote path is a file, not a folder")
        entries = sftp.listdir_attr(remote_path)
    except FileNotFoundError:
        raise fail("the remote folder does not exist") from None
    except PermissionError:
        raise fail("permission denied reading the remote folder") from None

    wanted = _drop_files(entries)
    if not wanted:
        raise fail(f"no .csv or .zip files in the remote folder ({len(entries)} other entries)")

    listed = sum(e.st_size or 0 for e in wanted)
    if listed > max_total:
        raise fail(f"the drop is {size_text(listed)}, more than limits.max_total_size ({size_text(max_total)}); "
                   "nothing was downloaded")
    dest_dir.mkdir(parents=True, exist_ok=True)
    parts = [(e, dest_dir / f".{e.filename}.part") for e in wanted]
    received = 0

    def bounded(done: int, _total: int) -> None:
        if received + done > max_total:
            raise fail(f"the server sent more than limits.max_total_size ({size_text(max_total)}); "
                       "the transfer was stopped and nothing was kept")

    try:
        for entry, part in parts:
            sftp.get(posixpath.join(remote_path, entry.filename), str(part), callback=bounded)
            received += part.stat().st_size
            if entry.st_mtime:
                os.utime(part, (entry.st_mtime, entry.st_mtime))
        # Renamed only once every file is complete, so a failed fetch never leaves a partial drop.
        for entry, part in parts:
            os.replace(part, dest_dir / entry.filename)
    finally:
        for _, part in parts:
            part.unlink(missing_ok=True)
    return sorted(dest_dir / e.filename for e in wanted)
