"""The machinery every fake API server shares: a real HTTP server on a local port, in a thread,
with bearer tokens that expire, a request log, and fault injection.

A fake is a function ``handle(request) -> FakeResponse`` given to ``FakeApiServer``; it answers
what the vendor's public documentation says the real API answers (paths, auth, paging headers,
envelopes, error bodies). Faults are queued by tests before (or during) an extract:

    server.faults.add(r"/students", status=429, retry_after=1, times=3)   # a 429 burst
    server.faults.add(r"/sections", status=500, times=2)
    server.faults.slow(r"/student", seconds=2.0, times=1)                 # longer than the client's timeout
    server.tokens.expire_all()                                            # token expiry mid-extract
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import re
import secrets
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

HOST = "127.0.0.1"


@dataclass
class FakeRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    url: str  # as the client addressed it: http://host:port/path?query
    received_at: float = field(default_factory=time.monotonic)  # when the server read it (monotonic clock)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8"), keep_blank_values=True).items()}

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def basic_auth(self) -> tuple[str, str] | None:
        value = self.header("authorization", "")
        if not value.lower().startswith("basic "):
            return None
        try:
            user, _, password = base64.b64decode(value[6:]).decode().partition(":")
        except ValueError:
            return None
        return user, password

    def bearer(self) -> str | None:
        value = self.header("authorization", "")
        return value[7:] if value.lower().startswith("bearer ") else None


@dataclass
class FakeResponse:
    status: int = 200
    body: Any = None  # dict/list -> JSON; bytes/str as is
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> tuple[bytes, str]:
        if self.body is None:
            return b"", "text/plain"
        if isinstance(self.body, (bytes, str)):
            data = self.body.encode() if isinstance(self.body, str) else self.body
            return data, self.headers.get("Content-Type", "text/plain")
        return json.dumps(self.body).encode(), "application/json"


@dataclass
class Fault:
    pattern: re.Pattern
    times: int
    status: int | None = None
    retry_after: str | None = None
    delay: float = 0.0
    body: Any = None


class FaultPlan:
    """Faults matched in order against the request path; each fires ``times`` times."""

    def __init__(self):
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self.fired: list[tuple[str, str]] = []

    def add(self, pattern: str, *, status: int, times: int = 1, retry_after: float | str | None = None,
            body: Any = None) -> None:
        with self._lock:
            self._faults.append(Fault(re.compile(pattern), times, status=status,
                                      retry_after=None if retry_after is None else str(retry_after), body=body))

    def slow(self, pattern: str, *, seconds: float, times: int = 1) -> None:
        with self._lock:
            self._faults.append(Fault(re.compile(pattern), times, delay=seconds))

    def take(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.times > 0 and fault.pattern.search(path):
                    fault.times -= 1
                    self.fired.append((path, "slow" if fault.delay else str(fault.status)))
                    return fault
        return None


class TokenIssuer:
    """Bearer tokens with a lifetime; ``expire_all`` makes every issued token invalid at once."""

    def __init__(self, lifetime: int = 3600):
        self.lifetime = lifetime
        self._tokens: dict[str, tuple[float, str, tuple[str, ...]]] = {}
        self._lock = threading.Lock()
        self.issued = 0

    def issue(self, client: str, scopes: tuple[str, ...] = ()) -> dict:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = (time.monotonic() + self.lifetime, client, scopes)
            self.issued += 1
        return {"access_token": token, "token_type": "Bearer", "expires_in": self.lifetime}

    def check(self, token: str | None) -> tuple[str, tuple[str, ...]] | None:
        """The client and scopes of a live token, else None."""
        with self._lock:
            entry = self._tokens.get(token or "")
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1], entry[2]

    def expire_all(self) -> None:
        with self._lock:
            self._tokens.clear()


class FakeApiServer:
    """``handle(request)`` served over HTTP (or HTTPS with ``tls=True``) on 127.0.0.1."""

    def __init__(self, handle: Callable[[FakeRequest], FakeResponse], *, tls: bool = False, tmp: Path | None = None):
        self.handle = handle
        self.faults = FaultPlan()
        self.tokens = TokenIssuer()
        self.requests: list[FakeRequest] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                host = self.headers.get("Host", f"{HOST}:{server.port}")
                request = FakeRequest(
                    method=self.command, path=parts.path, query=parse_qs(parts.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()}, body=body,
                    url=f"{server.scheme}://{host}{self.path}",
                )
                with server._lock:
                    server.requests.append(request)
                fault = server.faults.take(parts.path)
                if fault is not None and fault.delay:
                    time.sleep(fault.delay)
                    fault = None
                if fault is not None:
                    response = FakeResponse(fault.status or 500, fault.body if fault.body is not None else
                                            {"error": "injected fault"})
                    if fault.retry_after is not None:
                        response.headers["Retry-After"] = fault.retry_after
                else:
                    try:
                        response = server.handle(request)
                    except Exception as exc:  # a bug in the fake must show up as a 500, not a hang
                        response = FakeResponse(500, {"error": f"fake server error: {type(exc).__name__}: {exc}"})
                data, content_type = response.encode()
                try:
                    self.send_response(response.status)
                    headers = {"Content-Type": content_type, **response.headers}
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        self._httpd = ThreadingHTTPServer((HOST, 0), Handler)
        self._httpd.daemon_threads = True
        self.scheme = "http"
        self.ca_file: Path | None = None
        if tls:
            if tmp is None:
                raise ValueError("tls=True needs tmp: a folder for the self-signed certificate")
            cert, key = self_signed_certificate(tmp)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
            self.scheme = "https"
            self.ca_file = cert
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://{HOST}:{self.port}"

    def start(self) -> "FakeApiServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "FakeApiServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def requests_to(self, pattern: str) -> list[FakeRequest]:
        with self._lock:
            return [r for r in self.requests if re.search(pattern, r.path)]


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no client trusts unless given it as ca_bundle."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "passport-fake")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "fake-cert.pem", folder / "fake-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path
