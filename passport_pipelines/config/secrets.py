"""Secrets in integration files are ``env:VAR`` references, resolved only when used.

The value never goes back into a file, a log line, run metadata or an error message: errors
name the variable, not its content.
"""

from __future__ import annotations

import os
import re

SECRET_REF = re.compile(r"^env:([A-Za-z_][A-Za-z0-9_]*)$")


class MissingSecretError(RuntimeError):
    pass


def is_secret_ref(value: str) -> bool:
    return bool(SECRET_REF.match(value))


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
    return value
