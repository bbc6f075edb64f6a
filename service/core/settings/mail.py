"""E-mail and account-link settings: how mail leaves (SMTP or, in development, the log), who it is
from, where the links in it point, and how long its tokens live."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

from service.core.settings.env import Env

BACKENDS = {"console", "smtp"}
SECURITY = {"none", "starttls", "tls"}


@dataclass(frozen=True)
class MailSettings:
    # console: every message is logged, nothing is sent (development and the demo); smtp: sent.
    backend: str = "console"
    smtp_host: str = "localhost"
    smtp_port: int = 25
    # none: plain SMTP (a local relay); starttls: upgrade on the submission port (587); tls: implicit TLS (465).
    smtp_security: str = "none"
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_timeout_s: float = 10.0
    sender: str = "BoosterBoxPro <no-reply@localhost>"
    # The web client's address: links in e-mails are <this>/verify-email?token=... and /reset-password?token=...
    public_base_url: str = "http://127.0.0.1:8000"
    password_reset_ttl_minutes: int = 60
    email_verification_ttl_hours: int = 48
    # Password-reset requests per address (per IP they count against RATE_LIMIT_AUTH).
    rate_limit_password_reset: str = "3/hour"  # noqa: S105 - a rate, not a password
    # The console backend logs whole messages, links and their tokens included: not in production,
    # where logs are kept and read by others (it logs who and what, and warns that nothing was sent).
    console_bodies: bool = True

    @classmethod
    def read(cls, env: Env, *, production: bool = False) -> MailSettings:
        d = cls()
        env.section("E-mail and accounts")
        values: dict[str, Any] = {
            "backend": env.text(
                "MAIL_BACKEND",
                d.backend,
                "console: log every e-mail instead of sending it (development); smtp: send through SMTP_*",
                choices=BACKENDS,
            ),
            "smtp_host": env.text("SMTP_HOST", d.smtp_host, "the SMTP server (relay or submission)"),
            "smtp_port": env.integer(
                "SMTP_PORT", d.smtp_port, "25 (none), 587 (starttls) or 465 (tls) usually", minimum=1, maximum=65535
            ),
            "smtp_security": env.text(
                "SMTP_SECURITY",
                d.smtp_security,
                "none, starttls (upgrade after connecting) or tls (TLS from the start); certificates are verified",
                choices=SECURITY,
            ),
            "smtp_user": env.text("SMTP_USER", d.smtp_user, "log in with this user (and SMTP_PASSWORD) when set"),
            "smtp_password": env.text("SMTP_PASSWORD", "", "the SMTP password", secret=True),
            "smtp_timeout_s": env.number(
                "SMTP_TIMEOUT_S", d.smtp_timeout_s, "give up on a silent SMTP server after this long (then retry)"
            ),
            "sender": env.text("MAIL_FROM", d.sender, "the From address of every e-mail"),
            "public_base_url": env.text(
                "PUBLIC_BASE_URL",
                d.public_base_url,
                "where users open the web client: the base of links in e-mails (make run: http://API_HOST:API_PORT)",
            ).rstrip("/"),
            "password_reset_ttl_minutes": env.integer(
                "PASSWORD_RESET_TTL_MINUTES", d.password_reset_ttl_minutes, "a reset link works this long", minimum=1
            ),
            "email_verification_ttl_hours": env.integer(
                "EMAIL_VERIFICATION_TTL_HOURS",
                d.email_verification_ttl_hours,
                "a verification link works this long",
                minimum=1,
            ),
            "rate_limit_password_reset": env.text(
                "RATE_LIMIT_PASSWORD_RESET",
                d.rate_limit_password_reset,
                "password-reset e-mails per address; more requests answer the same but send nothing",
            ),
        }
        mail = cls(**values, console_bodies=not production)
        for problem in mail.problems():
            env.fail(problem, None)
        return mail

    def problems(self) -> list[str]:
        """What is wrong with values that are each well-formed but do not go together."""
        found = []
        if not parseaddr(self.sender)[1] or "@" not in parseaddr(self.sender)[1]:
            found.append(f"MAIL_FROM must be an address like 'Name <no-reply@example.com>', got {self.sender!r}")
        if not self.public_base_url.startswith(("https://", "http://")):
            found.append(f"PUBLIC_BASE_URL must start with https:// or http://, got {self.public_base_url!r}")
        if self.smtp_password and not self.smtp_user:
            found.append("SMTP_PASSWORD is set without SMTP_USER")
        if self.smtp_user and self.smtp_security == "none":
            found.append("SMTP_USER needs SMTP_SECURITY=starttls or tls: a password is never sent in clear")
        return found
