"""Single-use, expiring tokens sent by e-mail (address verification, password reset).

The token is 32 random bytes, sent in a link; the database keeps only its sha256 (account_tokens),
so whoever reads the table cannot use what is in it. A plain hash is enough (no slow hash): the
token has 256 bits of entropy, nothing a dictionary could guess. Spending one is a single UPDATE
that only matches an unused, unexpired token still for the account's current address.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

import psycopg

from service.core.sql import query

VERIFY_EMAIL = "verify_email"
PASSWORD_RESET = "password_reset"  # noqa: S105 - a purpose, not a password


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def issue(conn: psycopg.Connection[Any], user_id: int, purpose: str, email: str, ttl: timedelta) -> str:
    """A new token for `user_id`, stored hashed; the caller puts the returned text in the e-mail."""
    token = secrets.token_urlsafe(32)
    conn.execute(
        query("account_tokens/issue"),
        {"token_hash": digest(token), "user_id": user_id, "purpose": purpose, "email": email, "ttl": ttl},
    )
    return token


def spend(conn: psycopg.Connection[Any], token: str, purpose: str) -> int | None:
    """The account a valid token belongs to, the token spent; None for a wrong, used or expired one."""
    row = conn.execute(query("account_tokens/use"), {"token_hash": digest(token), "purpose": purpose}).fetchone()
    if row is None:
        return None
    return int(row["user_id"] if isinstance(row, dict) else row[0])
