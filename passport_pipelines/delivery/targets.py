"""Where a delivered zip goes: a folder, or an SFTP server (host key checked).

Either way the file appears whole or not at all: a folder gets it by ``os.replace`` (the writer's
temporary file), an SFTP server as ``.<name>.part`` renamed once complete, so an app polling the
folder never picks up half a file.
"""

from __future__ import annotations

import hashlib
import posixpath
from pathlib import Path

import paramiko

from passport_pipelines.config.destinations import SftpTarget
from passport_pipelines.config.integration import Integration
from passport_pipelines.sources.drops.errors import DropFetchError
from passport_pipelines.sources.drops.sftp import sftp_location, sftp_session


class DeliveryError(RuntimeError):
    """A destination could not receive its file; the message says where and what failed, never a secret."""


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def upload_sftp(local: Path, target: SftpTarget, integration: Integration) -> str:
    """Upload ``local`` into the target's remote folder; returns where it landed (an sftp:// URL)."""
    where = sftp_location(target)

    def fail(what: str) -> DropFetchError:
        return DropFetchError(f"SFTP destination {where}: {what}")

    remote = posixpath.join(target.remote_path, local.name)
    part = posixpath.join(target.remote_path, f".{local.name}.part")
    try:
        with sftp_session(target, integration, fail) as sftp:
            sftp.put(str(local), part, confirm=True)
            try:
                sftp.posix_rename(part, remote)
            except OSError:  # a server without the posix-rename extension: plain rename over nothing
                if _exists(sftp, remote):
                    sftp.remove(remote)
                sftp.rename(part, remote)
    except DropFetchError as exc:
        raise DeliveryError(str(exc)) from None
    except TimeoutError:
        raise DeliveryError(f"SFTP destination {where}: timed out after {target.timeout_seconds:g}s") from None
    except (OSError, paramiko.SSHException) as exc:
        raise DeliveryError(f"SFTP destination {where}: upload failed: {exc}") from None
    return f"{where.rstrip('/')}/{local.name}"


def _exists(sftp: paramiko.SFTPClient, path: str) -> bool:
    try:
        sftp.stat(path)
        return True
    except FileNotFoundError:
        return False
