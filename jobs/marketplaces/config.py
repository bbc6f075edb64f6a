"""Marketplace credentials, base URLs and HTTP limits, read once from the environment (and .env).

An adapter whose credentials are missing is not configured: its fetch jobs log one line and return.
Base URLs can be overridden, which is how tests point the adapters at the fake servers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from dotenv import dotenv_values

from service.settings import PROJECT_ROOT, SettingsError


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if value < 0:
        raise SettingsError(f"{name} must not be negative, got {raw!r}")
    return value


def _band(raw: str) -> tuple[float, float]:
    if not raw.strip():
        return EbayConfig.auto_band
    try:
        low, high = (float(part) for part in raw.split(","))
    except ValueError:
        raise SettingsError(f"EBAY_AUTO_PRICE_BAND must be 'low,high' multiples like 0.5,2, got {raw!r}") from None
    if (low, high) != (0, 0) and not 0 < low < 1 < high:
        raise SettingsError(f"EBAY_AUTO_PRICE_BAND needs 0 < low < 1 < high (or 0,0 to turn it off), got {raw!r}")
    return low, high


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    return int(_float(env, name, default))


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


@dataclass(frozen=True)
class TcgplayerConfig:
    public_key: str = field(default="", repr=False)
    private_key: str = field(default="", repr=False)
    base_url: str = "https://api.tcgplayer.com"
    api_version: str = "v1.39.0"
    http: HttpPolicy = HttpPolicy()

    @property
    def configured(self) -> bool:
        return bool(self.public_key and self.private_key)

    @property
    def api_url(self) -> str:
        return f"{self.base_url.rstrip('/')}/{self.api_version}" if self.api_version else self.base_url.rstrip("/")


@dataclass(frozen=True)
class TcgcsvConfig:
    base_url: str = "https://tcgcsv.com"
    user_agent: str = ""
    category_ids: tuple[int, ...] = (68, 3, 1, 71, 2)  # One Piece, Pokemon, Magic, Lorcana, Yu-Gi-Oh!
    enabled: bool = True
    http: HttpPolicy = HttpPolicy(rate_per_s=6.0, burst=1)  # their FAQ: about 150 ms between requests

    @property
    def configured(self) -> bool:
        # No key, but the mirror blocks generic agents: an operator must say who is calling.
        return self.enabled and bool(self.user_agent)


@dataclass(frozen=True)
class EbayConfig:
    client_id: str = field(default="", repr=False)
    client_secret: str = field(default="", repr=False)
    base_url: str = "https://api.ebay.com"
    marketplace_id: str = "EBAY_US"
    scope: str = "https://api.ebay.com/oauth/api_scope"
    insights_enabled: bool = False  # Marketplace Insights is a limited release: opt in once approved
    page_limit: int = 200
    quota_reset_tz: str = "America/Los_Angeles"  # daily call limits reset at midnight Pacific
    # A source without a price band of its own gets [low, high] x the product's latest TCGplayer market
    # price (within 14 days), when there is one: it keeps singles, packs and cases out. (0, 0): off.
    auto_band: tuple[float, float] = (0.5, 2.0)
    http: HttpPolicy = HttpPolicy(rate_per_s=2.0, burst=5)

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self.client_secret)


@dataclass(frozen=True)
class MarketplaceConfig:
    tcgplayer: TcgplayerConfig = TcgplayerConfig()
    tcgcsv: TcgcsvConfig = TcgcsvConfig()
    ebay: EbayConfig = EbayConfig()
    user_agent: str = "BoosterBoxPro/0.1 (sealed-product market tracker)"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> MarketplaceConfig:
        if environ is None:
            env = {**dotenv_values(PROJECT_ROOT / ".env"), **os.environ}
            environ = {k: v for k, v in env.items() if v is not None}

        def policy(prefix: str, default: HttpPolicy) -> HttpPolicy:
            def number(name: str, fallback: float) -> float:
                # Per-marketplace value first, then the shared MARKETPLACE_* value, then the default.
                return _float(environ, f"{prefix}_{name}", _float(environ, f"MARKETPLACE_{name}", fallback))

            return HttpPolicy(
                connect_timeout_s=number("CONNECT_TIMEOUT_S", default.connect_timeout_s),
                read_timeout_s=number("READ_TIMEOUT_S", default.read_timeout_s),
                max_attempts=max(1, int(number("MAX_ATTEMPTS", default.max_attempts))),
                backoff_base_s=number("BACKOFF_BASE_S", default.backoff_base_s),
                backoff_max_s=number("BACKOFF_MAX_S", default.backoff_max_s),
                max_retry_after_s=number("MAX_RETRY_AFTER_S", default.max_retry_after_s),
                rate_per_s=_float(environ, f"{prefix}_RATE_PER_S", default.rate_per_s),
                burst=max(1, _int(environ, f"{prefix}_BURST", default.burst)),
            )

        user_agent = environ.get("MARKETPLACE_USER_AGENT", cls.user_agent)
        categories = environ.get("TCGCSV_CATEGORY_IDS", "")
        try:
            category_ids = tuple(int(c) for c in categories.split(",") if c.strip()) or TcgcsvConfig.category_ids
        except ValueError:
            raise SettingsError(f"TCGCSV_CATEGORY_IDS must be comma-separated integers, got {categories!r}") from None
        return cls(
            tcgplayer=TcgplayerConfig(
                public_key=environ.get("TCGPLAYER_PUBLIC_KEY", ""),
                private_key=environ.get("TCGPLAYER_PRIVATE_KEY", ""),
                base_url=environ.get("TCGPLAYER_BASE_URL", TcgplayerConfig.base_url),
                api_version=environ.get("TCGPLAYER_API_VERSION", TcgplayerConfig.api_version),
                http=policy("TCGPLAYER", TcgplayerConfig.http),
            ),
            tcgcsv=TcgcsvConfig(
                base_url=environ.get("TCGCSV_BASE_URL", TcgcsvConfig.base_url),
                user_agent=environ.get("TCGCSV_USER_AGENT", ""),
                category_ids=category_ids,
                enabled=environ.get("TCGCSV_ENABLED", "1").lower() not in {"0", "false", "no", "off"},
                http=policy("TCGCSV", TcgcsvConfig.http),
            ),
            ebay=EbayConfig(
                client_id=environ.get("EBAY_CLIENT_ID", ""),
                client_secret=environ.get("EBAY_CLIENT_SECRET", ""),
                base_url=environ.get("EBAY_BASE_URL", EbayConfig.base_url),
                marketplace_id=environ.get("EBAY_MARKETPLACE_ID", EbayConfig.marketplace_id),
                insights_enabled=environ.get("EBAY_INSIGHTS_ENABLED", "0").lower() in {"1", "true", "yes", "on"},
                page_limit=min(200, max(1, _int(environ, "EBAY_PAGE_LIMIT", EbayConfig.page_limit))),
                auto_band=_band(environ.get("EBAY_AUTO_PRICE_BAND", "")),
                http=policy("EBAY", EbayConfig.http),
            ),
            user_agent=user_agent,
        )
