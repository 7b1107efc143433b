"""Errors shared by the drop fetchers (SFTP and local folder)."""

from __future__ import annotations

from passport_pipelines.config.secrets import redact


class DropFetchError(RuntimeError):
    """A district's drop could not be fetched; the message says where from and what failed.

    Messages are shown to operators and stored in run logs, so they never carry a secret or
    any file contents: whatever a server's answer put in one, the secrets this process resolved
    are taken out of it (``config.secrets.redact``).
    """

    def __init__(self, message: str = ""):
        super().__init__(redact(str(message)))
