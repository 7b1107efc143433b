"""Errors shared by the drop fetchers (SFTP and local folder)."""

from __future__ import annotations


class DropFetchError(RuntimeError):
    """A district's drop could not be fetched; the message says where from and what failed.

    Messages are shown to operators and stored in run logs, so they never carry a secret or
    any file contents.
    """
