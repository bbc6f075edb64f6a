"""Which sessions have ended: durable in the database, answered from Redis on every request.

A session is a refresh-token family: sign-in starts one, each refresh continues it, and every access
token carries its family. Signing out, reusing a spent refresh token and changing the password end
sessions by revoking their refresh tokens in the database (refresh_tokens.revoked_at), which is the
truth. Redis holds a key per session ended within an access token's lifetime, so that a request's
check is one Redis round trip (with the marker that says the keys are complete) and no database
query when nothing was revoked.

Redis has no persistence here: after it restarts (the marker is gone, and with it every key), the
first check loads the recently ended sessions back from the database. The marker expires every
minute, which bounds how long a key lost some other way (Redis unreachable while a session ended)
could be missing. While Redis is unreachable, the check asks the database instead: sign-out holds.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import redis

from service.extensions import database, redis_client

log = logging.getLogger(__name__)

ACCESS_TTL = timedelta(minutes=15)  # an access token's lifetime: a session ended longer ago has none left
LOADED_KEY = "boxpro:sessions:loaded"
LOADED_TTL_S = 60


def _key(family: str) -> str:
    return f"boxpro:sessions:ended:{family}"


def ended(families: Iterable[uuid.UUID | str]) -> None:
    """Cache sessions the database just ended (their refresh tokens are revoked already)."""
    keys = {_key(str(family)) for family in families}
    if not keys:
        return
    try:
        with redis_client().pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.set(key, "1", ex=int(ACCESS_TTL.total_seconds()))
            pipe.execute()
    except redis.RedisError:
        log.warning("could not cache ended sessions; checks fall back to the database", exc_info=True)


def is_ended(family: str) -> bool:
    """Has this session ended? One Redis round trip; the database after a Redis restart or outage."""
    client = redis_client()
    try:
        loaded, cached = client.mget(LOADED_KEY, _key(family))
    except redis.RedisError:
        return _in_database(family)
    if cached is not None:
        return True
    if loaded is None:  # Redis restarted (or the marker lapsed): the keys may be incomplete
        _reload(client)
        return _in_database(family)
    return False


def _in_database(family: str) -> bool:
    row = database().fetch_one("auth/session_revoked", {"family": family})
    return bool(row and row["revoked"])


def _reload(client: redis.Redis) -> None:
    rows = database().fetch_all("auth/sessions_revoked_since", {"window": ACCESS_TTL})
    now = datetime.now(UTC)
    try:
        with client.pipeline(transaction=False) as pipe:
            for row in rows:
                left = int((row["revoked_at"] + ACCESS_TTL - now).total_seconds())
                if left > 0:
                    pipe.set(_key(str(row["family"])), "1", ex=left)
            pipe.set(LOADED_KEY, "1", ex=LOADED_TTL_S)
            pipe.execute()
    except redis.RedisError:
        log.warning("could not reload ended sessions into Redis", exc_info=True)
