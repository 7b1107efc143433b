"""A real SFTP server for tests: asyncssh on 127.0.0.1, chrooted to a folder, in a subprocess.

It runs in its own process so that a client blocking on a socket can never starve the server,
and so that killing it really closes every connection. Each start generates a new ed25519
host key; the password travels in an environment variable rather than on the command line.

    python -m tests.fakes.sftp_server --root DIR --port 0 --username district [--authorized-key LINE]

prints one JSON line ``{"port": ..., "host_key": "ssh-ed25519 AAAA..."}`` once it listens.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

HOST = "127.0.0.1"
PASSWORD_ENV = "FAKE_SFTP_PASSWORD"
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class SftpServerInfo:
    host: str
    port: int
    username: str
    password: str
    host_key_line: str  # 'ssh-ed25519 AAAA...'
    known_hosts_line: str  # '[127.0.0.1]:PORT ssh-ed25519 AAAA...'


@contextmanager
def running_sftp_server(
    root: Path,
    username: str = "district",
    password: str = "s3cret",
    *,
    authorized_key: str | None = None,
    startup_timeout: float = 15.0,
) -> Iterator[SftpServerInfo]:
    """Serve ``root`` as ``/`` over SFTP until the block exits; ``authorized_key`` also allows that public key."""
    cmd = [sys.executable, "-m", "tests.fakes.sftp_server", "--root", str(root), "--port", "0", "--username", username]
    if authorized_key:
        cmd += ["--authorized-key", authorized_key]
    env = {**os.environ, PASSWORD_ENV: password}
    with tempfile.TemporaryFile() as stderr:
        # stdin stays open as a lifeline: the server exits when it closes, even if we are killed.
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr)
        try:
            deadline = time.monotonic() + startup_timeout
            ready = _read_ready_line(proc, deadline, stderr)
            port, host_key = int(ready["port"]), str(ready["host_key"])
            _wait_for_port(proc, port, deadline, stderr)
            yield SftpServerInfo(HOST, port, username, password, host_key, f"[{HOST}]:{port} {host_key}")
        finally:
            proc.kill()
            proc.wait(timeout=10)
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    pipe.close()


def _died(proc: subprocess.Popen[bytes], stderr: IO[bytes]) -> RuntimeError:
    stderr.seek(0)
    tail = stderr.read().decode(errors="replace")[-2000:]
    return RuntimeError(f"fake SFTP server exited with code {proc.poll()}:\n{tail}")


def _read_ready_line(proc: subprocess.Popen[bytes], deadline: float, stderr: IO[bytes]) -> dict[str, object]:
    lines: queue.Queue[bytes] = queue.Queue()
    assert proc.stdout is not None
    stdout = proc.stdout
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        line = lines.get(timeout=max(deadline - time.monotonic(), 0.1))
    except queue.Empty:
        raise RuntimeError("fake SFTP server did not report its port in time") from None
    if not line:
        proc.wait(timeout=5)
        raise _died(proc, stderr)
    return json.loads(line)


def _wait_for_port(proc: subprocess.Popen[bytes], port: int, deadline: float, stderr: IO[bytes]) -> None:
    while True:
        if proc.poll() is not None:
            raise _died(proc, stderr)
        try:
            socket.create_connection((HOST, port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"fake SFTP server is not accepting connections on port {port}") from None
            time.sleep(0.05)


async def _serve(root: Path, port: int, username: str, password: str, authorized_key: str | None) -> None:
    import asyncssh

    host_key = asyncssh.generate_private_key("ssh-ed25519")
    allowed = asyncssh.import_public_key(authorized_key) if authorized_key else None

    class Server(asyncssh.SSHServer):
        def begin_auth(self, user: str) -> bool:
            return True  # False would mean "no authentication needed"

        def password_auth_supported(self) -> bool:
            return True

        def validate_password(self, user: str, given: str) -> bool:
            return user == username and given == password

        def public_key_auth_supported(self) -> bool:
            return allowed is not None

        def validate_public_key(self, user: str, key: asyncssh.SSHKey) -> bool:
            return allowed is not None and user == username and key.public_data == allowed.public_data

    server = await asyncssh.create_server(
        Server,
        HOST,
        port,
        server_host_keys=[host_key],
        sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=str(root)),
        allow_scp=False,
    )
    public = " ".join(host_key.export_public_key("openssh").decode().split()[:2])
    print(json.dumps({"port": server.get_port(), "host_key": public}), flush=True)
    await asyncio.Event().wait()


def _exit_when_parent_goes() -> None:
    sys.stdin.buffer.read()
    os._exit(0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--username", default="district")
    parser.add_argument("--authorized-key", help="a public key line also allowed to log in")
    args = parser.parse_args(argv)
    password = os.environ.get(PASSWORD_ENV)
    if not password:
        parser.error(f"set the password in ${PASSWORD_ENV}")
    threading.Thread(target=_exit_when_parent_goes, daemon=True).start()
    asyncio.run(_serve(args.root.resolve(), args.port, args.username, password, args.authorized_key))


if __name__ == "__main__":
    main()
