"""E-mail notifications: one plain-text message through the SMTP server of the environment.

The server, port, login and sender come from the ``NotifierResource`` (``PASSPORT_SMTP_*``), never
from an integration file, so a district's file cannot point the hub's mail login at another server.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from passport_pipelines.notifications.errors import NotificationError
from passport_pipelines.notifications.message import headline

SUBJECT_PREFIX = "[passport]"
IMPLICIT_TLS_PORT = 465


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    sender: str = "passport@localhost"
    timeout_seconds: float = 30.0

    def __repr__(self) -> str:  # a dataclass repr would print the password into a log or a traceback
        return f"SmtpSettings(host={self.host!r}, port={self.port}, user={self.user!r}, starttls={self.starttls})"


def subject(message: dict) -> str:
    """``[passport] lakeside 2025-2026: held (version 2)``"""
    return f"{SUBJECT_PREFIX} {headline(message)}"


def body_text(message: dict) -> str:
    """The message for people: what happened, the numbers, and the run to open in the Dagster UI."""
    lines = [headline(message), ""]
    for label, key in (("District", "district"), ("School year", "school_year"), ("Event", "event"),
                       ("Version", "version"), ("Status", "status"), ("Job", "job"), ("Run", "run_id"),
                       ("Started by", "started_by"), ("At", "at")):
        if message.get(key) is not None:
            lines.append(f"{label + ':':<13}{message[key]}")
    if message.get("reasons"):
        lines += ["", "Held because:"] + [f"  - {r}" for r in message["reasons"]]
        args = f"{message['district']} {message['version']} --school-year {message['school_year']} --by EMAIL"
        lines += ["", "Approve or reject it:", f"  passport approve {args}", f"  passport reject {args}"]
    error = message.get("error")
    if error:
        lines += ["", f"Failed in step {error.get('step') or '(none: the run itself)'}:", f"  {error['message']}"]
        if error.get("failed_checks"):
            lines.append(f"  blocking checks that did not pass: {', '.join(error['failed_checks'])}")
    changes = {e: c for e, c in (message.get("changes") or {}).items() if any(c.values())}
    if changes:
        lines += ["", f"{'Changes':<20}{'added':>9}{'updated':>9}{'deleted':>9}"]
        for entity, c in changes.items():
            lines.append(f"  {entity:<18}{c.get('added', 0):>9}{c.get('updated', 0):>9}{c.get('deleted', 0):>9}")
    elif message.get("version") is not None:
        lines += ["", "No records changed."]
    lines += ["", f"The run's events and checks are in the Dagster UI (run {message['run_id']})."]
    return "\n".join(lines) + "\n"


def compose(message: dict, sender: str, to: list[str]) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = subject(message)
    mail["From"] = sender
    mail["To"] = ", ".join(to)
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    mail["X-Passport-Event"] = message["event"]
    mail.set_content(body_text(message))
    return mail


def send_email(settings: SmtpSettings, to: list[str], message: dict) -> None:
    """Deliver one e-mail to all recipients. Raises NotificationError naming the server (not the
    login) when the server cannot be reached or refuses the message."""
    mail = compose(message, settings.sender, to)
    server = f"{settings.host}:{settings.port}"
    try:
        # Port 465 speaks TLS from the first byte (SMTPS); other ports start in clear text and
        # upgrade with STARTTLS when asked to.
        if settings.port == IMPLICIT_TLS_PORT:
            smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout_seconds,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds)
        with smtp:
            if settings.starttls and settings.port != IMPLICIT_TLS_PORT:
                smtp.starttls(context=ssl.create_default_context())
            if settings.user:
                smtp.login(settings.user, settings.password or "")
            refused = smtp.send_message(mail)
    except smtplib.SMTPAuthenticationError as exc:
        raise NotificationError(f"SMTP server {server} refused the login of {settings.user!r} "
                                f"(code {exc.smtp_code})") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise NotificationError(f"e-mail through {server} failed: {type(exc).__name__}: {exc}") from None
    if refused:
        raise NotificationError(f"SMTP server {server} refused recipients: {', '.join(sorted(refused))}")
