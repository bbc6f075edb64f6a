"""Outgoing webhooks: how a delivery is signed and sent (which URLs we accept: service/core/urls.py).

A receiver checks a delivery with its secret:
    expected = "sha256=" + hex(HMAC-SHA256(secret, f"{X-BoxPro-Timestamp}." + raw body))
and compares it with `X-BoxPro-Signature` in constant time, rejecting old timestamps (replays).
`X-BoxPro-Delivery` is the same on every retry of one delivery, so receivers can drop duplicates.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import requests

from service.core.urls import Unresolvable, UnsafeUrl, check_url, is_public, pinned, public_address, resolve_public

# The URL guard moved to service/core/urls.py (box images use it too); its names stay reachable here.
__all__ = [
    "USER_AGENT",
    "Unresolvable",
    "UnsafeUrl",
    "check_url",
    "is_public",
    "new_secret",
    "public_address",
    "resolve_public",
    "send",
    "sign",
]

USER_AGENT = "BoosterBoxPro-Webhooks/1"


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def send(
    session: requests.Session,
    url: str,
    secret: str,
    delivery_id: int,
    body: bytes,
    *,
    timeout: float,
    address: str | None = None,
) -> requests.Response:
    """POST one signed delivery, to `address` when given (what `resolve_public` checked). Redirects are
    not followed (they could lead anywhere)."""
    timestamp = int(time.time())
    extra: dict[str, str] = {}
    if address is not None:
        session, url, extra["Host"] = pinned(url, address)
    headers = {
        **extra,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-BoxPro-Delivery": str(delivery_id),
        "X-BoxPro-Timestamp": str(timestamp),
        "X-BoxPro-Signature": sign(secret, timestamp, body),
    }
    try:
        return session.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False)
    finally:
        if address is not None:
            session.close()  # a session of its own, pinned to this one address
