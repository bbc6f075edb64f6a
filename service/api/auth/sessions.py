"""Which sessions have ended: durable in the database, answered from Redis on every request.

A session is a refresh-token family: sign-in starts one, each refresh continues it, and every access
token carries its family. Signing out, reusing a spent refresh token and changing the password end
sessions by revoking their refresh tokens in the database (refresh_tokens.revoked_at), which is the
truth. Redis holds a key per session ended within an access token's lifetime, so that a request's
check is one Redis round trip (with the marker that says the keys are complete) and no database
query when nothing was revoked.

The keys are complete only if no session ended while Redis was unreachable: such a sign-out is in the
database alone (the check asks the database while Redis is down, so it holds then). When Redis comes
back, the keys must be loaded again before they are trusted -- and `make run` and docker-compose run
Redis with an append-only file, so it comes back with its keys and the marker too. What Redis (7 and
later) never keeps across a restart, whatever its persistence, is its script cache: the check is a cached script, and a
Redis that answers NOSCRIPT has restarted (or had its scripts flushed), so the first check after it
loads the recently ended sessions from the database, and puts the script back only after the keys and
the marker. A Redis that loses its keys (no persistence, FLUSHALL) loses the marker with them, which
does the same. A write Redis refuses while it stays up (out of memory, a read-only replica) takes the
marker away. Left bounded by the marker's minute-long lifetime: a Redis that kept running but that the
signing-out process could not reach (a network partition, a paused server).
"""

from __future__ import annotations

import contextlib
import hashlib
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
# KEYS: the marker, the session's key. Returns {marker set, session ended} (1 or 0 each).
_CHECK = "return {redis.call('EXISTS', KEYS[1]), redis.call('EXISTS', KEYS[2])}"
_CHECK_SHA = hashlib.sha1(_CHECK.encode(), usedforsecurity=False).hexdigest()  # what Redis names it by


def _key(family: str) -> str:
    return f"boxpro:sessions:ended:{family}"


def ended(families: Iterable[uuid.UUID | str]) -> None:
    """Cache sessions the database just ended (their refresh tokens are revoked already)."""
    keys = {_key(str(family)) for family in families}
    if not keys:
        return
    client = redis_client()
    try:
        with client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.set(key, "1", ex=int(ACCESS_TTL.total_seconds()))
            pipe.execute()
    except (redis.ConnectionError, redis.TimeoutError):
        # Unreachable: checks ask the database meanwhile, and the first check after a restart reloads.
        log.warning("could not cache ended sessions; checks fall back to the database", exc_info=True)
    except redis.RedisError:  # refused while up (out of memory, read-only): have the keys reloaded
        log.warning("Redis refused the ended sessions; dropping the marker so that they are reloaded", exc_info=True)
        with contextlib.suppress(redis.RedisError):
            client.delete(LOADED_KEY)


def is_ended(family: str) -> bool:
    """Has this session ended? One Redis round trip; the database after a Redis restart or outage."""
    client = redis_client()
    try:
        loaded, cached = client.evalsha(_CHECK_SHA, 2, LOADED_KEY, _key(family))
    except redis.exceptions.NoScriptError:  # Redis restarted: its keys may miss sessions ended meanwhile
        _reload(client)
        return _in_database(family)
    except redis.RedisError:
        return _in_database(family)
    if cached:
        return True
    if not loaded:  # Redis lost its keys (or the marker lapsed): they may be incomplete
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
            pipe.script_load(_CHECK)  # last: a check that finds the script finds the keys complete
            pipe.execute()
    except redis.RedisError:
        log.warning("could not reload ended sessions into Redis", exc_info=True)
