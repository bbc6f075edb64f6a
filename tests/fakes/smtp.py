"""A real SMTP server on loopback (aiosmtpd) that records what it is sent and can misbehave on cue:
answer a chosen reply code to the next messages (a 4xx or 5xx at DATA), or stall longer than the
client's timeout. Connection refused needs no server: `refused_port()` names a port nothing listens on.
With a certificate (`self_signed`, made by the openssl command) it speaks STARTTLS or implicit TLS, and
with `users` it wants a login (only over TLS, as real submission servers do)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.helpers import free_port


@dataclass
class Mailbox:
    """What the server received, and the faults it still has to play."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)  # e.g. "451 4.3.0 try later", used up one per message
    stall_s: float = 0.0  # wait this long before answering DATA (once per message while > 0)
    stalls: int = 0
    logins: list[str] = field(default_factory=list)

    def last(self) -> EmailMessage:
        assert self.messages, "no e-mail was received"
        return self.messages[-1]


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.box.stalls > 0:
            self.box.stalls -= 1
            await asyncio.sleep(self.box.stall_s)
        if self.box.replies:
            return self.box.replies.pop(0)
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.box.messages.append(parsed)  # type: ignore[arg-type]
        self.box.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 2.0.0 OK: queued"


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made by the openssl command."""
    cert, key = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@contextmanager
def smtp_server(
    *, tls: str = "none", cert: tuple[Path, Path] | None = None, users: dict[str, str] | None = None
) -> Iterator[tuple[int, Mailbox]]:
    """(port, mailbox) of a fresh SMTP server on 127.0.0.1, stopped afterwards. `tls`: none, starttls
    (offered after EHLO) or tls (from the first byte), with `cert` (certificate, key)."""
    box = Mailbox()
    port = free_port()
    kwargs: dict[str, Any] = {}
    if tls != "none":
        assert cert is not None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*cert)
        kwargs["tls_context" if tls == "starttls" else "ssl_context"] = context
    if users is not None:

        def authenticate(_server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any) -> AuthResult:
            ok = isinstance(data, LoginPassword) and users.get(data.login.decode()) == data.password.decode()
            if ok:
                box.logins.append(data.login.decode())
            return AuthResult(success=ok, handled=False)  # a refusal: aiosmtpd answers 535

        # aiosmtpd knows of TLS only through STARTTLS: under implicit TLS it must be told AUTH is safe.
        kwargs.update(authenticator=authenticate, auth_required=True, auth_require_tls=tls != "tls")
    controller = Controller(_Handler(box), hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield port, box
    finally:
        controller.stop()


def refused_port() -> int:
    return free_port()


def smtp_env(port: int, **extra: str) -> dict[str, str]:
    """The environment a worker reads to send through the fake server."""
    return {
        "MAIL_BACKEND": "smtp",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_SECURITY": "none",
        "SMTP_TIMEOUT_S": "2",
        "MAIL_FROM": "BoosterBoxPro <alerts@boxpro.example>",
        "PUBLIC_BASE_URL": "https://boxpro.example",
        **extra,
    }
