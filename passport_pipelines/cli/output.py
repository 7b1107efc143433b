"""How commands print: a human summary, or one JSON object with --json."""

from __future__ import annotations

import json
import sys

import click


def emit_json(payload) -> None:
    click.echo(json.dumps(payload, indent=2, default=str))


def fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)
