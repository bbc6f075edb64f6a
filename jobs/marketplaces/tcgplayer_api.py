"""TCGplayer as the TCGplayer adapter (jobs/marketplaces/tcgplayer.py) speaks it: the settings and
clients of the official API (client-credentials token, pricing by product id, catalog look-up) and of
its free daily mirror, tcgcsv (categories -> groups -> prices, no key), and the parsers of their
answers. Both answer in the same envelope, `{"success", "errors", "results"}`, and both become
`tcgplayer` price points.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import redis

from jobs.marketplaces.config import DEFAULT_USER_AGENT, HttpPolicy, http_policy, section, user_agent
from jobs.marketplaces.http import CallRecorder, MarketplaceClient, MarketplaceError
from jobs.marketplaces.tokens import TokenCache
from service.core.ingest.records import PricePoint
from service.core.settings import Env

MARKETPLACE = "tcgplayer"
MIRROR = "tcgcsv"  # its own rate limit and counters; its prices are TCGplayer's
MAX_IDS_PER_CALL = 250
PAGE_LIMIT = 100  # list endpoints serve at most 100 items a page
PREFERRED_SUBTYPE = "Normal"  # sealed products have one printing, "Normal"
# Raw payload kinds (their `context.kind`) of the price answers a replay re-parses.
PRICING_PAYLOAD, MIRROR_PAYLOAD = "tcgplayer.pricing", "tcgcsv.prices"

# TCGplayer's category of each of our games (mtgban's constants and the tcgcsv client agree on them).
CATEGORIES = {
    "mtg": 1,
    "yugioh": 2,
    "pokemon": 3,
    "flesh-and-blood": 62,
    "digimon": 63,
    "one-piece": 68,
    "lorcana": 71,
    "star-wars-unlimited": 79,
    "dragon-ball-fusion": 80,
}
MIRRORED_GAMES = ("one-piece", "pokemon", "mtg", "lorcana", "yugioh")  # the mirror's default categories


@dataclass(frozen=True)
class TcgplayerConfig:
    public_key: str = field(default="", repr=False)
    private_key: str = field(default="", repr=False)
    base_url: str = "https://api.tcgplayer.com"
    api_version: str = "v1.39.0"
    user_agent: str = DEFAULT_USER_AGENT
    http: HttpPolicy = HttpPolicy()

    @property
    def configured(self) -> bool:
        return bool(self.public_key and self.private_key)

    @property
    def api_url(self) -> str:
        return f"{self.base_url.rstrip('/')}/{self.api_version}" if self.api_version else self.base_url.rstrip("/")

    @classmethod
    def read(cls, env: Env) -> TcgplayerConfig:
        agent = user_agent(env)
        section(env, "tcgplayer")
        return cls(
            public_key=env.text(
                "TCGPLAYER_PUBLIC_KEY", "", "TCGplayer API keys: both, or TCGplayer is off", secret=True
            ),
            private_key=env.text("TCGPLAYER_PRIVATE_KEY", "", "", secret=True),
            base_url=env.text("TCGPLAYER_BASE_URL", cls.base_url, "tests point this at a fake"),
            api_version=env.text("TCGPLAYER_API_VERSION", cls.api_version, "path prefix of the API"),
            user_agent=agent,
            http=http_policy(env, "TCGPLAYER", cls.http),
        )


@dataclass(frozen=True)
class TcgcsvConfig:
    base_url: str = "https://tcgcsv.com"
    user_agent: str = ""
    category_ids: tuple[int, ...] = tuple(CATEGORIES[game] for game in MIRRORED_GAMES)
    enabled: bool = True
    http: HttpPolicy = HttpPolicy(rate_per_s=6.0, burst=1)  # their FAQ: about 150 ms between requests

    @property
    def configured(self) -> bool:
        # No key, but the mirror blocks generic agents: an operator must say who is calling.
        return self.enabled and bool(self.user_agent)

    @classmethod
    def read(cls, env: Env) -> TcgcsvConfig:
        section(env, "tcgcsv")
        categories = env.csv("TCGCSV_CATEGORY_IDS", tuple(map(str, cls.category_ids)), "TCGplayer categories to mirror")
        try:
            category_ids = tuple(int(c) for c in categories) or cls.category_ids
        except ValueError:
            message = f"TCGCSV_CATEGORY_IDS must be comma-separated integers, got {','.join(categories)!r}"
            category_ids = env.fail(message, cls.category_ids)
        return cls(
            base_url=env.text("TCGCSV_BASE_URL", cls.base_url, "the daily TCGplayer price mirror"),
            user_agent=env.text("TCGCSV_USER_AGENT", "", "who is calling, e.g. 'YourApp/1.0 (you@example.com)'"),
            category_ids=category_ids,
            enabled=env.flag("TCGCSV_ENABLED", cls.enabled, "false: never call the mirror"),
            http=http_policy(env, "TCGCSV", cls.http),
        )


class BadEnvelope(MarketplaceError):
    """A 200 whose body is not the TCGplayer envelope."""


def results(body: Any) -> list[Mapping[str, Any]]:
    """The envelope's results. A 2xx may carry results *and* errors (some ids unknown): keep the data."""
    if not isinstance(body, Mapping) or not isinstance(body.get("results", []), list):
        raise BadEnvelope("response is not the TCGplayer envelope")
    return [r for r in body.get("results") or [] if isinstance(r, Mapping)]


def batches(ids: Sequence[str], size: int = MAX_IDS_PER_CALL) -> Iterator[list[str]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def _price(value: Any) -> Decimal | None:
    """Nullable: null means nothing listed or sold, which is not 0."""
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount > 0 else None


def price_points(
    rows: Sequence[Mapping[str, Any]], product_map: Mapping[str, int], observed_at: datetime
) -> tuple[list[PricePoint], Counter[str]]:
    """One point per product of ours: its Normal printing, else its first printing with any price."""
    chosen: dict[int, Mapping[str, Any]] = {}
    rejected: Counter[str] = Counter()
    for row in rows:
        product_id = product_map.get(str(row.get("productId")))
        if product_id is None:
            continue  # a product we do not track (a whole group's prices)
        fields = [_price(row.get(k)) for k in ("marketPrice", "lowPrice", "midPrice", "highPrice", "directLowPrice")]
        if all(f is None for f in fields):
            rejected["no_prices"] += 1
            continue
        current = chosen.get(product_id)
        if current is None or (
            row.get("subTypeName") == PREFERRED_SUBTYPE and current.get("subTypeName") != PREFERRED_SUBTYPE
        ):
            chosen[product_id] = row
    points = [
        PricePoint(
            product_id=product_id,
            observed_at=observed_at,
            market_price=_price(row.get("marketPrice")),
            low_price=_price(row.get("lowPrice")),
            mid_price=_price(row.get("midPrice")),
            high_price=_price(row.get("highPrice")),
            direct_low_price=_price(row.get("directLowPrice")),
        )
        for product_id, row in sorted(chosen.items())
    ]
    return points, rejected


def image_urls(rows: Sequence[Mapping[str, Any]], product_map: Mapping[str, int]) -> dict[int, str]:
    """Our products' image URLs in catalog rows (the API's products, the mirror's product lists), as
    given: whether they may be fetched is the download job's call (jobs/images.py)."""
    found: dict[int, str] = {}
    for row in rows:
        product_id = product_map.get(str(row.get("productId")))
        url = row.get("imageUrl")
        if product_id is not None and isinstance(url, str) and url.startswith(("https://", "http://")):
            found[product_id] = url.strip()[:2000]
    return found


def _redact_token(body: Any) -> Any:
    if isinstance(body, Mapping) and "access_token" in body:
        return {**body, "access_token": "<redacted>", "userName": "<redacted>"}
    return body


@dataclass
class TcgplayerApi:
    config: TcgplayerConfig
    redis: redis.Redis
    recorder: CallRecorder

    def __post_init__(self) -> None:
        self.token_client = MarketplaceClient(
            name=MARKETPLACE,
            policy=self.config.http,
            redis=self.redis,
            recorder=self.recorder,
            headers={"User-Agent": self.config.user_agent},
            redact=_redact_token,
        )
        # Tokens live about 14 days; mint a new one a day ahead.
        self.tokens = TokenCache(self.redis, MARKETPLACE, self._mint, renew_before_s=24 * 3600)
        self.client = MarketplaceClient(
            name=MARKETPLACE,
            policy=self.config.http,
            redis=self.redis,
            recorder=self.recorder,
            headers={"User-Agent": self.config.user_agent, "Accept": "application/json"},
            tokens=self.tokens,
            auth_header=lambda token: {"Authorization": f"bearer {token}"},
        )

    def _mint(self) -> tuple[str, float]:
        body = self.token_client.call(
            "POST",
            self.config.base_url.rstrip("/") + "/token",
            data={
                "grant_type": "client_credentials",
                "client_id": self.config.public_key,
                "client_secret": self.config.private_key,
            },
            authenticated=False,
            context={"kind": "tcgplayer.token"},
        )
        try:
            return str(body["access_token"]), float(body.get("expires_in", 1209599))
        except (KeyError, TypeError, ValueError):
            raise MarketplaceError("TCGplayer token response has no access_token") from None

    def _get_or_empty(self, url: str, **kwargs: Any) -> Any:
        """TCGplayer answers "nothing found" with a 404 and an error string: that is no data, not a failure."""
        try:
            return self.client.get(url, **kwargs)
        except MarketplaceError as exc:
            if exc.status == 404:
                return {"success": False, "errors": [str(exc)], "results": []}
            raise

    def pricing(self, external_ids: Sequence[str], context: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """Price rows of up to 250 products in one call."""
        if len(external_ids) > MAX_IDS_PER_CALL:
            raise ValueError(f"at most {MAX_IDS_PER_CALL} product ids per pricing call")
        url = f"{self.config.api_url}/pricing/product/{','.join(external_ids)}"
        return results(self._get_or_empty(url, context=context))

    def products(self, external_ids: Sequence[str]) -> list[Mapping[str, Any]]:
        """Catalog details (name, group, category) of up to 250 products."""
        url = f"{self.config.api_url}/catalog/products/{','.join(external_ids)}"
        return results(self._get_or_empty(url, params={"getExtendedFields": "true"}, context={"kind": "catalog"}))

    def search_sealed(self, category_id: int, product_name: str) -> list[Mapping[str, Any]]:
        """Sealed products of a category whose name matches (the catalog look-up that maps our products)."""
        found: list[Mapping[str, Any]] = []
        offset = 0
        while True:
            body = self._get_or_empty(
                f"{self.config.api_url}/catalog/products",
                params={
                    "categoryId": category_id,
                    "productName": product_name,
                    "productTypes": "Sealed Products",
                    "offset": offset,
                    "limit": PAGE_LIMIT,
                },
                context={"kind": "catalog"},
            )
            page = results(body)
            found.extend(page)
            offset += PAGE_LIMIT
            total = body.get("totalItems") if isinstance(body, Mapping) else None
            if not page or not isinstance(total, int) or offset >= total:
                return found


def parse_last_updated(text: str) -> datetime:
    """tcgcsv's `last-updated.txt`, e.g. `2026-06-30T20:05:27+0000` (no colon in the offset)."""
    value = text.strip()
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"):
        try:
            return datetime.strptime(value, fmt).astimezone(UTC)
        except ValueError:
            continue
    raise BadEnvelope(f"last-updated.txt is not a timestamp: {value[:40]!r}")


@dataclass
class TcgcsvApi:
    config: TcgcsvConfig
    redis: redis.Redis
    recorder: CallRecorder

    def __post_init__(self) -> None:
        self.base = self.config.base_url.rstrip("/")
        self.client = MarketplaceClient(
            name=MIRROR,
            policy=self.config.http,
            redis=self.redis,
            recorder=self.recorder,
            headers={"User-Agent": self.config.user_agent, "Accept": "application/json"},
        )

    def last_updated(self) -> datetime:
        return parse_last_updated(self.client.get(f"{self.base}/last-updated.txt", text=True, context={"kind": "meta"}))

    def categories(self) -> list[int]:
        rows = results(self.client.get(f"{self.base}/tcgplayer/categories", context={"kind": "meta"}))
        return [int(r["categoryId"]) for r in rows if isinstance(r.get("categoryId"), int)]

    def groups(self, category_id: int) -> list[int]:
        rows = results(self.client.get(f"{self.base}/tcgplayer/{category_id}/groups", context={"kind": "meta"}))
        return [int(r["groupId"]) for r in rows if isinstance(r.get("groupId"), int)]

    def prices(self, category_id: int, group_id: int, context: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        return results(self.client.get(f"{self.base}/tcgplayer/{category_id}/{group_id}/prices", context=context))

    def products(self, category_id: int, group_id: int) -> list[Mapping[str, Any]]:
        """A group's catalog rows (names, image URLs)."""
        url = f"{self.base}/tcgplayer/{category_id}/{group_id}/products"
        return results(self.client.get(url, context={"kind": "tcgcsv.products"}))
