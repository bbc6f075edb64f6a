"""Marketplace credentials, base URLs and HTTP limits, read once from the environment (and .env).

An adapter whose credentials are missing is not configured: its fetch jobs log one line and return.
Base URLs can be overridden, which is how tests point the adapters at the fake servers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from service.core.settings import Env, SettingsError


def _band(env: Env) -> tuple[float, float]:
    low, high = EbayConfig.auto_band
    raw = env.text(
        "EBAY_AUTO_PRICE_BAND",
        f"{low},{high}",
        "sources without a price band of their own: [low, high] x the latest TCGplayer market price; 0,0 = off",
    )
    try:
        low, high = (float(part) for part in raw.split(","))
    except ValueError:
        raise SettingsError(f"EBAY_AUTO_PRICE_BAND must be 'low,high' multiples like 0.5,2, got {raw!r}") from None
    if (low, high) != (0, 0) and not 0 < low < 1 < high:
        raise SettingsError(f"EBAY_AUTO_PRICE_BAND needs 0 < low < 1 < high (or 0,0 to turn it off), got {raw!r}")
    return low, high


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
        return cls.read(Env.load() if environ is None else Env(environ))

    @classmethod
    def read(cls, env: Env) -> MarketplaceConfig:
        def policy(prefix: str, default: HttpPolicy) -> HttpPolicy:
            def number(name: str, fallback: float, help: str) -> float:
                # Per-marketplace value first, then the shared MARKETPLACE_* value, then the default.
                env.section("Marketplaces: every marketplace")
                shared = env.number(f"MARKETPLACE_{name}", fallback, help)
                env.section(f"Marketplaces: {prefix.lower()}")
                return env.number(f"{prefix}_{name}", shared, f"{help} (default: MARKETPLACE_{name})")

            return HttpPolicy(
                connect_timeout_s=number("CONNECT_TIMEOUT_S", default.connect_timeout_s, "connect timeout, seconds"),
                read_timeout_s=number("READ_TIMEOUT_S", default.read_timeout_s, "read timeout, seconds"),
                max_attempts=max(
                    1, int(number("MAX_ATTEMPTS", default.max_attempts, "calls per request, first included"))
                ),
                backoff_base_s=number("BACKOFF_BASE_S", default.backoff_base_s, "retry n waits up to base x 2^n s"),
                backoff_max_s=number("BACKOFF_MAX_S", default.backoff_max_s, "longest wait between retries, s"),
                max_retry_after_s=number(
                    "MAX_RETRY_AFTER_S", default.max_retry_after_s, "a longer Retry-After ends the run"
                ),
                rate_per_s=env.number(
                    f"{prefix}_RATE_PER_S", default.rate_per_s, "calls per second, all workers together"
                ),
                burst=max(1, env.integer(f"{prefix}_BURST", default.burst, "calls allowed at once", minimum=0)),
            )

        env.section("Marketplaces: every marketplace")
        user_agent = env.text("MARKETPLACE_USER_AGENT", cls.user_agent, "User-Agent of every marketplace call")
        env.section("Marketplaces: tcgplayer")
        tcgplayer = TcgplayerConfig(
            public_key=env.text(
                "TCGPLAYER_PUBLIC_KEY", "", "TCGplayer API keys: both, or TCGplayer is off", secret=True
            ),
            private_key=env.text("TCGPLAYER_PRIVATE_KEY", "", "", secret=True),
            base_url=env.text("TCGPLAYER_BASE_URL", TcgplayerConfig.base_url, "tests point this at a fake"),
            api_version=env.text("TCGPLAYER_API_VERSION", TcgplayerConfig.api_version, "path prefix of the API"),
            http=policy("TCGPLAYER", TcgplayerConfig.http),
        )
        env.section("Marketplaces: tcgcsv")
        categories = env.csv(
            "TCGCSV_CATEGORY_IDS", tuple(map(str, TcgcsvConfig.category_ids)), "TCGplayer categories to mirror"
        )
        try:
            category_ids = tuple(int(c) for c in categories) or TcgcsvConfig.category_ids
        except ValueError:
            raise SettingsError(
                f"TCGCSV_CATEGORY_IDS must be comma-separated integers, got {','.join(categories)!r}"
            ) from None
        tcgcsv = TcgcsvConfig(
            base_url=env.text("TCGCSV_BASE_URL", TcgcsvConfig.base_url, "the daily TCGplayer price mirror"),
            user_agent=env.text("TCGCSV_USER_AGENT", "", "who is calling, e.g. 'YourApp/1.0 (you@example.com)'"),
            category_ids=category_ids,
            enabled=env.flag("TCGCSV_ENABLED", TcgcsvConfig.enabled, "false: never call the mirror"),
            http=policy("TCGCSV", TcgcsvConfig.http),
        )
        env.section("Marketplaces: ebay")
        ebay = EbayConfig(
            client_id=env.text("EBAY_CLIENT_ID", "", "eBay application keys: both, or eBay is off", secret=True),
            client_secret=env.text("EBAY_CLIENT_SECRET", "", "", secret=True),
            base_url=env.text("EBAY_BASE_URL", EbayConfig.base_url, "tests point this at a fake"),
            marketplace_id=env.text("EBAY_MARKETPLACE_ID", EbayConfig.marketplace_id, "X-EBAY-C-MARKETPLACE-ID"),
            insights_enabled=env.flag(
                "EBAY_INSIGHTS_ENABLED", EbayConfig.insights_enabled, "true once eBay approved Marketplace Insights"
            ),
            page_limit=min(
                200, max(1, env.integer("EBAY_PAGE_LIMIT", EbayConfig.page_limit, "listings per Browse page"))
            ),
            auto_band=_band(env),
            http=policy("EBAY", EbayConfig.http),
        )
        return cls(tcgplayer=tcgplayer, tcgcsv=tcgcsv, ebay=ebay, user_agent=user_agent)
