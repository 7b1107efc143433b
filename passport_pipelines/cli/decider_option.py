"""The ``--by`` option of the commands that decide something: checked before anything is touched."""

from __future__ import annotations

import click

from passport_pipelines.config.decided_by import who_decides


def checked_decider(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A click callback: ``--by`` as ``who_decides`` keeps it, or a usage error saying why not."""
    if value is None:
        return None
    try:
        return who_decides(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


# versions.committed_by holds at most this many characters (schema.versions).
COMMITTED_BY_LENGTH = 128


def checked_committer(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A click callback for ``passport sync --by``: one printable line, short enough for the version row."""
    text = checked_decider(ctx, param, value)
    if text is not None and len(text) > COMMITTED_BY_LENGTH:
        raise click.BadParameter(f"who commits is {len(text)} characters long; at most {COMMITTED_BY_LENGTH}")
    return text
