"""The one error type of a notification that could not be delivered."""

from __future__ import annotations


class NotificationError(RuntimeError):
    """A webhook or e-mail could not be delivered. The message names the target (a URL's host, the
    SMTP server) and what went wrong, never a secret or the message's content."""
