"""Delivers sync notifications to a district's webhooks and mailboxes.

SMTP settings are the environment's, not a district's: ``PASSPORT_SMTP_HOST``, ``PASSPORT_SMTP_PORT``,
``PASSPORT_SMTP_USER``, ``PASSPORT_SMTP_PASSWORD``, ``PASSPORT_SMTP_STARTTLS``, ``PASSPORT_SMTP_FROM``.
They are read when a notification is sent, not when the code location loads, so a changed variable
applies to the next notification and tests can set them per test.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import dagster as dg

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


class NotifierResource(dg.ConfigurableResource):
    """Sends finished, held and failed sync notifications by webhook and e-mail. Every field left
    empty is read from its PASSPORT_SMTP_* variable when a notification is sent; without an SMTP host,
    e-mail notifications are skipped with a warning (webhooks still go out)."""

    smtp_host: str | None = None
    smtp_port: int | None = None
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool | None = None
    sender: str | None = None
    webhook_timeout_seconds: float = 10.0
    webhook_retries: int = 2
    webhook_backoff_seconds: float = 1.0

    def smtp_settings(self) -> SmtpSettings | None:
        """The SMTP server to send through, or None when none is configured."""
        host = self.smtp_host or os.environ.get("PASSPORT_SMTP_HOST")
        if not host:
            return None
        port = self.smtp_port
        if port is None:
            raw = os.environ.get("PASSPORT_SMTP_PORT", "25").strip()
            if not raw.isdigit():
                raise NotificationError(f"PASSPORT_SMTP_PORT must be a port number, got {raw!r}")
            port = int(raw)
        starttls = self.smtp_starttls
        if starttls is None:
            starttls = os.environ.get("PASSPORT_SMTP_STARTTLS", "").strip().lower() in _TRUE
        return SmtpSettings(
            host=host, port=port,
            user=self.smtp_user or os.environ.get("PASSPORT_SMTP_USER") or None,
            password=self.smtp_password or os.environ.get("PASSPORT_SMTP_PASSWORD") or None,
            starttls=starttls,
            sender=self.sender or os.environ.get("PASSPORT_SMTP_FROM") or "passport@localhost",
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
