"""A real SMTP server on loopback (aiosmtpd) that records what it is sent and can misbehave on cue:
answer a chosen reply code to the next messages (a 4xx or 5xx at DATA), or stall longer than the
client's timeout. Connection refused needs no server: `refused_port()` names a port nothing listens on."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.helpers import free_port


@dataclass
class Mailbox:
    """What the server received, and the faults it still has to play."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)  # e.g. "451 4.3.0 try later", used up one per message
    stall_s: float = 0.0  # wait this long before answering DATA (once per message while > 0)
    stalls: int = 0

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


@contextmanager
def smtp_server() -> Iterator[tuple[int, Mailbox]]:
    """(port, mailbox) of a fresh SMTP server on 127.0.0.1, stopped afterwards."""
    box = Mailbox()
    port = free_port()
    controller = Controller(_Handler(box), hostname="127.0.0.1", port=port)
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
