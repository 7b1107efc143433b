"""Delivers sync notifications to a district's webhooks and mailboxes.

SMTP settings are the environment's, not a district's: the code location gives the ``notifier``
resource each one as a ``dg.EnvVar`` of its variable (``PASSPORT_SMTP_HOST``, ``PASSPORT_SMTP_PORT``,
``PASSPORT_SMTP_USER``, ``PASSPORT_SMTP_PASSWORD``, ``PASSPORT_SMTP_STARTTLS``, ``PASSPORT_SMTP_FROM``),
which Dagster resolves when a run or a sensor tick starts and never shows in the UI.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import dagster as dg
from pydantic import Field

from passport_pipelines.config.integration import Integration
from passport_pipelines.config.notifications import EmailNotification, WebhookNotification
from passport_pipelines.config.secrets import resolve_secret
from passport_pipelines.notifications.email import SmtpSettings, send_email
from passport_pipelines.notifications.errors import NotificationError
from passport_pipelines.notifications.message import headline
from passport_pipelines.notifications.webhook import WebhookSettings, host_of, post_webhook

SENT = "sent"
SKIPPED = "skipped"
FAILED = "failed"

_TRUE = ("1", "true", "yes", "on")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryResult:
    """What happened to one target: ``target`` names it without secrets (a webhook's host, an e-mail's
    recipients)."""

    target: str
    outcome: str  # sent | skipped | failed
    detail: str = ""


# Each SMTP setting of the resource, and the variable the code location reads it from.
SMTP_VARIABLES = {
    "smtp_host": "PASSPORT_SMTP_HOST",
    "smtp_port": "PASSPORT_SMTP_PORT",
    "smtp_user": "PASSPORT_SMTP_USER",
    "smtp_password": "PASSPORT_SMTP_PASSWORD",
    "smtp_starttls": "PASSPORT_SMTP_STARTTLS",
    "sender": "PASSPORT_SMTP_FROM",
}


class NotifierResource(dg.ConfigurableResource):
    """Sends finished, held and failed sync notifications by webhook and e-mail. Without an SMTP
    host, e-mail notifications are skipped with a warning (webhooks still go out)."""

    smtp_host: str | None = Field(default=None, description="The SMTP server; without it e-mail is skipped.")
    # Port and STARTTLS are kept as their variables' text and read when a message is sent, so a
    # port that is not a number fails the e-mails alone (the webhooks still go out).
    smtp_port: str | None = Field(default=None, description="Its port number (25 when unset).")
    smtp_user: str | None = Field(default=None, description="Login, if the server asks for one.")
    smtp_password: str | None = Field(default=None, description="Its password.")
    smtp_starttls: str | None = Field(
        default=None, description="1, true, yes or on: upgrade the connection with STARTTLS before logging in.")
    sender: str | None = Field(default=None, description="The sender address (passport@localhost when unset).")
    webhook_timeout_seconds: float = 10.0
    webhook_retries: int = 2
    webhook_backoff_seconds: float = 1.0

    @classmethod
    def from_environment(cls, **settings) -> NotifierResource:
        """The notifier with each SMTP setting a ``dg.EnvVar`` of its ``PASSPORT_SMTP_*`` variable.
        Dagster refuses an EnvVar whose variable is unset, so a variable unset in this process is left
        out and its setting keeps its default. ``settings``: the other fields."""
        return cls(**{name: dg.EnvVar(variable) for name, variable in SMTP_VARIABLES.items()
                      if variable in os.environ}, **settings)

    def smtp_settings(self) -> SmtpSettings | None:
        """The SMTP server to send through, or None when none is configured."""
        host = self.smtp_host
        if not host:
            return None
        raw = "25" if self.smtp_port is None else self.smtp_port.strip()
        if not raw.isdigit():
            raise NotificationError(f"PASSPORT_SMTP_PORT (the notifier's smtp_port) must be a port number, "
                                    f"got {raw!r}")
        return SmtpSettings(
            host=host, port=int(raw),
            user=self.smtp_user or None,
            password=self.smtp_password or None,
            starttls=(self.smtp_starttls or "").strip().lower() in _TRUE,
            sender=self.sender or "passport@localhost",
        )

    def webhook_settings(self) -> WebhookSettings:
        return WebhookSettings(timeout_seconds=self.webhook_timeout_seconds, retries=self.webhook_retries,
                               backoff_seconds=self.webhook_backoff_seconds)

    def send(self, integration: Integration, message: dict,
             logger: logging.Logger | None = None) -> list[DeliveryResult]:
        """Send ``message`` to every notification of the integration that asked for its event.

        One failing target does not stop the others; when any failed, NotificationError is raised
        after all were tried, so the sensor tick shows the error (the others were still delivered)."""
        logger = logger or log
        event = message["event"]
        results: list[DeliveryResult] = []
        for target in integration.notifications:
            if event not in target.events:
                continue
            if isinstance(target, WebhookNotification):
                result = self._webhook(target, message)
            else:
                result = self._email(target, message)
            results.append(result)
            text = f"{headline(message)}: {result.target}: {result.outcome}" + (
                f" ({result.detail})" if result.detail else "")
            {SENT: logger.info, SKIPPED: logger.warning, FAILED: logger.error}[result.outcome](text)
        failed = [r for r in results if r.outcome == FAILED]
        if failed:
            raise NotificationError(
                f"{len(failed)} of {len(results)} notifications of {headline(message)} failed: "
                + "; ".join(f"{r.target}: {r.detail}" for r in failed))
        return results

    def _webhook(self, target: WebhookNotification, message: dict) -> DeliveryResult:
        name = f"webhook {host_of(target.url)}"
        try:
            secret = resolve_secret(target.secret)
            if target.secret and not secret:
                # An empty key would still "sign", and the receiver would trust a forgeable signature.
                raise NotificationError(f"the webhook secret {target.secret} is empty")
            status = post_webhook(target.url, message, secret=secret, settings=self.webhook_settings())
        except Exception as exc:  # reported per target; the others still go out
            return DeliveryResult(name, FAILED, _reason(exc).replace(target.url, host_of(target.url)))
        return DeliveryResult(name, SENT, f"HTTP {status}")

    def _email(self, target: EmailNotification, message: dict) -> DeliveryResult:
        name = f"email {', '.join(target.to)}"
        try:
            settings = self.smtp_settings()
            if settings is None:
                return DeliveryResult(name, SKIPPED, "no SMTP server: set PASSPORT_SMTP_HOST")
            send_email(settings, target.to, message)
        except Exception as exc:  # reported per target; the others still go out
            return DeliveryResult(name, FAILED, _reason(exc))
        return DeliveryResult(name, SENT)


def _reason(exc: Exception) -> str:
    # Our own errors are written to be shown; for anything else the type and message are enough.
    return str(exc) if isinstance(exc, NotificationError) else f"{type(exc).__name__}: {exc}"
