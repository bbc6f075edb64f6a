"""Sending one e-mail: over SMTP (stdlib smtplib, which speaks plain, STARTTLS and implicit TLS and
needs no extra library), or to the log with the console backend of development.

Callers are RQ jobs (jobs/mail.py), never requests: a slow or failing server costs a retry, not a
user's wait. `send` sorts failures into the two a job must tell apart: `TemporaryFailure` (no
connection, a timeout, a 4xx reply: try again later) and `PermanentFailure` (a 5xx reply: trying
again would get the same answer).
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from service.core.settings import MailSettings

log = logging.getLogger(__name__)


class MailFailure(RuntimeError):
    """The message was not accepted."""


class TemporaryFailure(MailFailure):
    """Worth another attempt later."""


class PermanentFailure(MailFailure):
    """Refused for good (an unknown mailbox, a refused sender)."""


def message(settings: MailSettings, to: str, subject: str, text: str, *, message_key: str) -> EmailMessage:
    """A plain-text message. `message_key` makes the Message-ID stable across retries of one e-mail,
    so a receiving system can drop a copy should a retry deliver it twice."""
    msg = EmailMessage()
    msg["From"] = settings.sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(usegmt=True)
    domain = parseaddr(settings.sender)[1].rpartition("@")[2] or "localhost"
    msg["Message-ID"] = f"<{message_key}@{domain}>" if message_key else make_msgid(domain=domain)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to these
    msg.set_content(text)
    return msg


def send(settings: MailSettings, msg: EmailMessage) -> None:
    if settings.backend == "console":
        if settings.console_bodies:
            extra = {"to": msg["To"], "subject": msg["Subject"], "body": msg.get_content()}
            log.info("e-mail (console backend, not sent)", extra=extra)
        else:  # production: the body's links would put live tokens into the logs
            log.warning("e-mail NOT sent: MAIL_BACKEND=console", extra={"to": msg["To"], "subject": msg["Subject"]})
        return
    try:
        _send_smtp(settings, msg)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        error = f"recipient refused: {exc.recipients}"
        raise (TemporaryFailure if all(400 <= c < 500 for c in codes) else PermanentFailure)(error) from None
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        error = f"SMTP {exc.smtp_code} {text}"[:500]
        raise (TemporaryFailure if 400 <= exc.smtp_code < 500 else PermanentFailure)(error) from None
    except (smtplib.SMTPException, OSError) as exc:  # refused, reset, timed out, TLS failed, name unknown
        raise TemporaryFailure(f"{type(exc).__name__}: {exc}"[:500]) from None


def _send_smtp(settings: MailSettings, msg: EmailMessage) -> None:
    host, port, timeout = settings.smtp_host, settings.smtp_port, settings.smtp_timeout_s
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if settings.smtp_security == "tls":
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context, local_hostname=_helo_name())
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout, local_hostname=_helo_name())
    with smtp:
        if settings.smtp_security == "starttls":
            smtp.starttls(context=context)
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(msg)


def _helo_name() -> str:
    # smtplib would otherwise resolve the host's FQDN on every connection, which can hang for seconds.
    return socket.gethostname() or "localhost"
