"""Secrets in integration files are ``env:VAR`` references, resolved only when used.

The value never goes back into a file, a log line, run metadata or an error message: errors
name the variable, not its content.

Servers do not always play along: a token endpoint may echo the client secret in its error, a
proxy may quote the request. So this module, which resolves every secret, also remembers every
value it handed out in this process (and connectors add what they are given in return, such as
access tokens), and ``redact`` takes all of them out of a text. Error classes that carry text from
a server (``ConnectorError``, ``DropFetchError``) pass their message through it when raised, so no
log, notification or CLI output downstream ever sees the value. ``integration_secrets`` resolves
an integration's every secret up front, for a process that reads messages it did not raise.
"""

from __future__ import annotations

import os
import re
import threading

SECRET_REF = re.compile(r"^env:([A-Za-z_][A-Za-z0-9_]*)$")
REDACTED = "[redacted]"
# Shorter values are not taken out of texts: "a" would blank every other word, and a secret of
# three characters protects nothing anyway.
MIN_REDACTED_LENGTH = 4

_known: set[str] = set()
_lock = threading.Lock()


class MissingSecretError(RuntimeError):
    pass


def is_secret_ref(value: str) -> bool:
    return bool(SECRET_REF.match(value))


def remember_secret(value: str | None) -> None:
    """Have ``redact`` take ``value`` out of every text from now on (in this process)."""
    if value and len(value) >= MIN_REDACTED_LENGTH:
        with _lock:
            _known.add(value)


def resolve_secret(ref: str | None) -> str | None:
    if ref is None:
        return None
    match = SECRET_REF.match(ref)
    if not match:
        raise MissingSecretError("a secret must be given as an env:VAR reference")
    var = match.group(1)
    value = os.environ.get(var)
    if value is None:
        raise MissingSecretError(f"environment variable {var} (referenced as env:{var}) is not set")
    remember_secret(value)
    return value


def redact(text: str) -> str:
    """``text`` with every secret value this process knows replaced by ``[redacted]``."""
    with _lock:
        known = sorted(_known, key=len, reverse=True)  # a secret containing another goes first
    for value in known:
        if value in text:
            text = text.replace(value, REDACTED)
    return text


def integration_secrets(integration) -> int:
    """Resolve (and remember) every ``env:`` secret the integration names that is set; returns
    how many. For a process that reports errors it did not raise itself."""
    found = 0
    stack: list[object] = [integration.model_dump(mode="json", by_alias=True)]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and is_secret_ref(item):
            value = os.environ.get(SECRET_REF.match(item).group(1))  # type: ignore[union-attr]
            if value:
                remember_secret(value)
                found += 1
    return found
