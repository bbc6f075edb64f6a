"""The quota circuit: once a marketplace says its daily allowance is spent, stop calling it until the
allowance resets. State lives in Redis so every worker sees it; the key expires at the reset.

Counters for operators (and /metrics) live in one hash per marketplace: calls, errors, retries,
quota_refusals, token_mints.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import redis

CIRCUIT_PREFIX = "boxpro:marketplace:circuit:"
STATS_PREFIX = "boxpro:marketplace:stats:"


@dataclass(frozen=True)
class OpenCircuit:
    until: datetime
    reason: str


class QuotaCircuit:
    def __init__(self, client: redis.Redis, marketplace: str) -> None:
        self.client = client
        self.name = marketplace
        self.key = CIRCUIT_PREFIX + marketplace

    def open(self, until: datetime, reason: str, now: datetime | None = None) -> OpenCircuit:
        now = now or datetime.now(UTC)
        seconds = max(1, math.ceil((until - now).total_seconds()))
        value = json.dumps({"until": until.astimezone(UTC).isoformat(), "reason": reason, "opened_at": now.isoformat()})
        self.client.set(self.key, value, ex=seconds)
        self.client.hincrby(STATS_PREFIX + self.name, "quota_refusals", 1)
        return OpenCircuit(until, reason)

    def state(self) -> OpenCircuit | None:
        raw = self.client.get(self.key)
        if raw is None:
            return None
        data = json.loads(raw)
        return OpenCircuit(datetime.fromisoformat(data["until"]), data["reason"])

    def close(self) -> None:
        self.client.delete(self.key)


def next_daily_reset(now: datetime, tz: str) -> datetime:
    """The next local midnight in `tz` (eBay's daily limits reset at midnight Pacific), in UTC.

    Without a time-zone database (a slim image without tzdata), Pacific Standard Time: never earlier
    than the real reset."""
    try:
        zone: tzinfo = ZoneInfo(tz)
    except ZoneInfoNotFoundError:
        zone = timezone(timedelta(hours=-8))
    local = now.astimezone(zone)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), zone)
    return midnight.astimezone(UTC)


def count(client: redis.Redis, marketplace: str, field: str, amount: int = 1) -> None:
    client.hincrby(STATS_PREFIX + marketplace, field, amount)


def stats(client: redis.Redis, marketplace: str) -> dict[str, int]:
    raw = client.hgetall(STATS_PREFIX + marketplace)
    return {(k.decode() if isinstance(k, bytes) else str(k)): int(v) for k, v in raw.items()}


def known_names(client: redis.Redis) -> set[str]:
    """Every marketplace or API with a circuit or counters in Redis."""
    return {
        key.decode().rsplit(":", 1)[-1] if isinstance(key, bytes) else str(key).rsplit(":", 1)[-1]
        for pattern in (CIRCUIT_PREFIX + "*", STATS_PREFIX + "*")
        for key in client.scan_iter(match=pattern, count=100)
    }


def overview(client: redis.Redis) -> dict[str, dict[str, object]]:
    """Every circuit and counter hash there is, by name: what `flask ingest status` shows."""
    report: dict[str, dict[str, object]] = {}
    for name in sorted(known_names(client)):
        state = QuotaCircuit(client, name).state()
        report[name] = {
            "circuit": f"open until {state.until.isoformat()}" if state else "closed",
            **stats(client, name),
        }
    return report
