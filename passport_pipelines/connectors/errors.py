"""What can go wrong talking to a source, named so that an operator knows what to fix.

Messages carry the host and path, never a secret, a token or a query string (which may hold
student data such as a search on a name).
"""

from __future__ import annotations

from typing import Literal

FailureKind = Literal[
    "unresolvable_host", "connection_refused", "tls", "timeout", "bad_credentials", "missing_scope",
    "not_found", "rate_limited", "server_error", "bad_response", "missing_secret", "drop_unavailable",
]

HINTS: dict[str, str] = {
    "unresolvable_host": "check the host name in base_url / token_url",
    "connection_refused": "the host answers but nothing listens on that port; check the URL's port and any firewall",
    "tls": "the server's certificate is not trusted; check the URL, or give ca_bundle for a private CA",
    "timeout": "the server did not answer in time; raise timeout_seconds or check the network path",
    "bad_credentials": "the server rejected the credentials (401); check client_id and the secret's env var",
    "missing_scope": "the credentials are valid but not allowed to read this (403); grant the scope or plugin access",
    "not_found": "the path does not exist (404); check base_url (and the API version)",
    "rate_limited": "the server kept answering 429 Too Many Requests after every retry",
    "server_error": "the server kept failing (5xx) after every retry",
    "bad_response": "the server answered with something that is not the documented response",
    "missing_secret": "an env:VAR credential is not set in the environment of the run",
    "drop_unavailable": "the CSV drop could not be reached or read; the message says which part failed",
}


class ConnectorError(RuntimeError):
    """A source could not be read. ``kind`` says what failed; ``where`` is host + path."""

    def __init__(self, kind: FailureKind, where: str, detail: str = ""):
        self.kind = kind
        self.where = where
        self.detail = detail
        text = f"{where}: {kind.replace('_', ' ')}"
        if detail:
            text += f" ({detail})"
        super().__init__(f"{text}: {HINTS[kind]}")
