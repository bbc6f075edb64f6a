"""What every marketplace adapter reads alike from the environment: the User-Agent of its calls and
its HTTP policy (timeouts, retries, the shared rate limit). Each `<PREFIX>_*` value defaults to the
shared `MARKETPLACE_*` one. An adapter's own settings live in its own module, read from the same `Env`.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.core.settings import Env

SHARED_SECTION = "Marketplaces: every marketplace"
DEFAULT_USER_AGENT = "BoosterBoxPro/0.1 (sealed-product market tracker)"


@dataclass(frozen=True)
class HttpPolicy:
    """Timeouts, retries and the shared rate limit of one marketplace."""

    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    max_attempts: int = 4  # first call included
    backoff_base_s: float = 1.0  # attempt n waits a random time in [0, base * 2**n], capped
    backoff_max_s: float = 60.0
    max_retry_after_s: float = 120.0  # a longer Retry-After ends the run (eBay: opens the quota circuit)
    rate_per_s: float = 10.0  # token bucket shared by every worker process
    burst: int = 10


def section(env: Env, name: str) -> Env:
    """Where the variables read next are listed in .env.example."""
    return env.section(f"Marketplaces: {name}")


def user_agent(env: Env) -> str:
    env.section(SHARED_SECTION)
    return env.text("MARKETPLACE_USER_AGENT", DEFAULT_USER_AGENT, "User-Agent of every marketplace call")


def http_policy(env: Env, prefix: str, default: HttpPolicy) -> HttpPolicy:
    """`<prefix>_*` limits (e.g. EBAY_READ_TIMEOUT_S), each defaulting to its MARKETPLACE_* value."""

    def number(name: str, fallback: float, help: str) -> float:
        # Per-marketplace value first, then the shared MARKETPLACE_* value, then the default.
        env.section(SHARED_SECTION)
        shared = env.number(f"MARKETPLACE_{name}", fallback, help)
        section(env, prefix.lower())
        return env.number(f"{prefix}_{name}", shared, f"{help} (default: MARKETPLACE_{name})")

    return HttpPolicy(
        connect_timeout_s=number("CONNECT_TIMEOUT_S", default.connect_timeout_s, "connect timeout, seconds"),
        read_timeout_s=number("READ_TIMEOUT_S", default.read_timeout_s, "read timeout, seconds"),
        max_attempts=max(1, int(number("MAX_ATTEMPTS", default.max_attempts, "calls per request, first included"))),
        backoff_base_s=number("BACKOFF_BASE_S", default.backoff_base_s, "retry n waits up to base x 2^n s"),
        backoff_max_s=number("BACKOFF_MAX_S", default.backoff_max_s, "longest wait between retries, s"),
        max_retry_after_s=number("MAX_RETRY_AFTER_S", default.max_retry_after_s, "a longer Retry-After ends the run"),
        rate_per_s=env.number(f"{prefix}_RATE_PER_S", default.rate_per_s, "calls per second, all workers together"),
        burst=max(1, env.integer(f"{prefix}_BURST", default.burst, "calls allowed at once", minimum=0)),
    )
