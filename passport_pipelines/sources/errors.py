"""What can go wrong talking to a source, named so that an operator knows what to fix.

Messages carry the host and path, never a secret, a token or a query string (which may hold
student data such as a search on a name). What a server answers is reduced to its status and a
reason code (``reason_code``): never its free text, which may quote the request, a name or the
very secret that was refused. And whatever a message holds, every secret value the process knows
is taken out of it when the error is raised (``config.secrets.redact``).
"""

from __future__ import annotations

import re
from typing import Literal

from passport_pipelines.config.secrets import redact

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


# What error codes look like (RFC 6749's invalid_client, OneRoster's unknownobject, Google's
# userRateLimitExceeded, numeric codes): a word, not a sentence that could quote anything.
_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]{0,39}|[0-9]{1,8}")
UNRECOGNIZED = "unrecognized"


def reason_code(value: object) -> str:
    """A server's error code as it may be shown: the code itself when it looks like one, else
    ``unrecognized`` (the free text is never repeated)."""
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    return text if _CODE.fullmatch(text) else UNRECOGNIZED


class ConnectorError(RuntimeError):
    """A source could not be read. ``kind`` says what failed; ``where`` is host + path."""

    def __init__(self, kind: FailureKind, where: str, detail: str = "", hint: str | None = None):
        self.kind = kind
        self.where = redact(where)
        self.detail = redact(detail)
        self.hint = redact(hint) if hint else HINTS[kind]  # what to fix; a source kind may know better
        text = f"{self.where}: {kind.replace('_', ' ')}"
        if detail:
            text += f" ({self.detail})"
        super().__init__(f"{text}: {self.hint}")
