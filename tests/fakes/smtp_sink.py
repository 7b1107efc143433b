"""A real SMTP server for tests: aiosmtpd in its own process, writing every message it receives to a
folder (one JSON file per message: envelope sender, recipients, and the raw message).

    python -m aiosmtpd -n -l 127.0.0.1:PORT -c tests.fakes.smtp_sink.Sink FOLDER

``running_smtp_sink(folder)`` starts it on a free port, waits until it answers, and stops it.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Iterator

HOST = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parents[2]


class Sink:
    """aiosmtpd handler: accepts every message and stores it in ``folder``."""

    def __init__(self, folder: str):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("tests.fakes.smtp_sink.Sink takes one argument: the folder to write messages to")
        return cls(args[0])

    async def handle_DATA(self, server, session, envelope):
        record = {"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
                  "content": envelope.content.decode("utf-8", errors="replace")}
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.json"
        # Written aside, then renamed: a test polling the folder never reads half a message.
        tmp = self.folder / f".{name}.tmp"
        tmp.write_text(json.dumps(record), encoding="utf-8")
        os.replace(tmp, self.folder / name)
        return "250 Message accepted for delivery"


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def body(self) -> str:
        return self.message.get_content()


def received(folder: Path) -> list[ReceivedMail]:
    """Every message the sink stored, oldest first."""
    mails = []
    for path in sorted(folder.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        message = email.message_from_string(record["content"], policy=email.policy.default)
        mails.append(ReceivedMail(record["mail_from"], record["rcpt_tos"], message))
    return mails


@dataclass(frozen=True)
class SmtpSinkInfo:
    host: str
    port: int
    folder: Path


@contextmanager
def running_smtp_sink(folder: Path, startup_timeout: float = 15.0) -> Iterator[SmtpSinkInfo]:
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    cmd = [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"{HOST}:{port}", "-c", "tests.fakes.smtp_sink.Sink",
           str(folder)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    with tempfile.TemporaryFile() as output:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=output)
        try:
            _wait_for_port(proc, port, time.monotonic() + startup_timeout, output)
            yield SmtpSinkInfo(HOST, port, folder)
        finally:
            proc.kill()
            proc.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _wait_for_port(proc: subprocess.Popen, port: int, deadline: float, output) -> None:
    while True:
        if proc.poll() is not None:
            output.seek(0)
            tail = output.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"SMTP sink exited with code {proc.returncode}:\n{tail}")
        try:
            # An SMTP server greets first: wait for the 220 line, not just an open socket.
            with socket.create_connection((HOST, port), timeout=0.5) as conn:
                if conn.recv(64).startswith(b"220"):
                    conn.sendall(b"QUIT\r\n")
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"SMTP sink is not answering on port {port}")
        time.sleep(0.05)
