"""eBay's APIs as the eBay adapter (jobs/marketplaces/ebay.py) speaks them: its settings, the client of
Browse `item_summary/search` (active listings) and Marketplace Insights `item_sales/search` (sold
items) with an application token cached in Redis, and the parsers of their pages.

Parsers are pure functions of the response bodies, so a replay re-parses stored payloads through
exactly this code.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

import redis

from jobs.marketplaces.config import DEFAULT_USER_AGENT, HttpPolicy, http_policy, section, user_agent
from jobs.marketplaces.filters import in_price_band, judge, per_unit
from jobs.marketplaces.http import CallRecorder, MarketplaceClient, MarketplaceError
from jobs.marketplaces.sources import ProductSource
from jobs.marketplaces.tokens import TokenCache
from service.core.circuits import next_daily_reset
from service.core.ingest.records import Listing, Sale
from service.core.settings import Env

MARKETPLACE = "ebay"
SEALED_BOOSTER_BOX_CATEGORY = "183456"  # CCG Sealed Booster Boxes (US site)
MAX_RESULT_WINDOW = 10_000  # Browse serves at most this many items of one result set
QUOTA_ERROR_ID = 2001
SEARCH_PATH = "/buy/browse/v1/item_summary/search"
SALES_PATH = "/buy/marketplace_insights/v1_beta/item_sales/search"
RATE_LIMIT_PATH = "/developer/analytics/v1_beta/rate_limit/"
BROWSE_CIRCUIT, BROWSE_RESOURCE = "ebay-browse", "buy.browse"
# The Insights resource name in the rate-limit report is not confirmed by eBay's docs; when it is not
# found, a refusal waits for the daily reset.
INSIGHTS_CIRCUIT, INSIGHTS_RESOURCE = "ebay-insights", "buy.marketplace.insights"
OAUTH_CIRCUIT = "ebay-oauth"
TOKEN_PATH = "/identity/v1/oauth2/token"  # noqa: S105 (a URL path, not a secret)
# Raw payload kinds (their `context.kind`) of the responses a replay re-parses.
BROWSE_PAYLOAD, SALES_PAYLOAD = "ebay.browse", "ebay.sales"


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
    user_agent: str = DEFAULT_USER_AGENT
    http: HttpPolicy = HttpPolicy(rate_per_s=2.0, burst=5)

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self.client_secret)

    @classmethod
    def read(cls, env: Env) -> EbayConfig:
        agent = user_agent(env)
        section(env, "ebay")
        return cls(
            client_id=env.text("EBAY_CLIENT_ID", "", "eBay application keys: both, or eBay is off", secret=True),
            client_secret=env.text("EBAY_CLIENT_SECRET", "", "", secret=True),
            base_url=env.text("EBAY_BASE_URL", cls.base_url, "tests point this at a fake"),
            marketplace_id=env.text("EBAY_MARKETPLACE_ID", cls.marketplace_id, "X-EBAY-C-MARKETPLACE-ID"),
            insights_enabled=env.flag(
                "EBAY_INSIGHTS_ENABLED", cls.insights_enabled, "true once eBay approved Marketplace Insights"
            ),
            page_limit=min(200, max(1, env.integer("EBAY_PAGE_LIMIT", cls.page_limit, "listings per Browse page"))),
            auto_band=_band(env),
            user_agent=agent,
            http=http_policy(env, "EBAY", cls.http),
        )


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
        return env.fail(
            f"EBAY_AUTO_PRICE_BAND must be 'low,high' multiples like 0.5,2, got {raw!r}", EbayConfig.auto_band
        )
    if (low, high) != (0, 0) and not 0 < low < 1 < high:
        message = f"EBAY_AUTO_PRICE_BAND needs 0 < low < 1 < high (or 0,0 to turn it off), got {raw!r}"
        return env.fail(message, EbayConfig.auto_band)
    return low, high


class BadPage(MarketplaceError):
    """A page that answered 200 but is not a search result page."""


def is_quota_error(status: int, body: Any) -> bool:
    """HTTP 429 with errorId 2001: the call allowance is used up."""
    if status != 429 or not isinstance(body, Mapping):
        return False
    errors = body.get("errors")
    return isinstance(errors, list) and any(
        isinstance(e, Mapping) and e.get("errorId") == QUOTA_ERROR_ID for e in errors
    )


def quota_state(body: Any, resource: str) -> tuple[int, datetime | None] | None:
    """(calls remaining, window reset) of one resource in eBay's rate-limit report."""
    if not isinstance(body, Mapping):
        return None
    for api in body.get("rateLimits") or []:
        for res in (api.get("resources") or []) if isinstance(api, Mapping) else []:
            if not isinstance(res, Mapping) or res.get("name") != resource:
                continue
            for rate in res.get("rates") or []:
                if isinstance(rate, Mapping) and isinstance(rate.get("remaining"), int):
                    return rate["remaining"], _sold_at(rate.get("reset"))
    return None


def _redact_token(body: Any) -> Any:
    if isinstance(body, Mapping) and "access_token" in body:
        return {**body, "access_token": "<redacted>"}
    return body


@dataclass
class EbayApi:
    config: EbayConfig
    redis: redis.Redis
    recorder: CallRecorder

    def __post_init__(self) -> None:
        self.base = self.config.base_url.rstrip("/")
        headers = {"User-Agent": self.config.user_agent, "X-EBAY-C-MARKETPLACE-ID": self.config.marketplace_id}

        def client(circuit: str, resource: str | None, **kwargs: Any) -> MarketplaceClient:
            # Each API has its own daily allowance, so its own circuit; one rate limit for all of eBay.
            return MarketplaceClient(
                name=MARKETPLACE,
                circuit_name=circuit,
                policy=self.config.http,
                redis=self.redis,
                recorder=self.recorder,
                headers=headers,
                is_quota_error=is_quota_error if resource else lambda status, body: False,
                quota_reset=partial(self.quota_reset, resource) if resource else None,
                **kwargs,
            )

        # The token endpoint has a quota of its own (1,000 a day): one token, cached for all workers.
        self.token_client = client(OAUTH_CIRCUIT, None, redact=_redact_token)
        self.tokens = TokenCache(self.redis, MARKETPLACE, self._mint, renew_before_s=300)
        self.browse = client(BROWSE_CIRCUIT, BROWSE_RESOURCE, tokens=self.tokens)
        self.insights = client(INSIGHTS_CIRCUIT, INSIGHTS_RESOURCE, tokens=self.tokens)
        self.analytics = client("ebay-analytics", None, tokens=self.tokens)

    def quota_reset(self, resource: str | None, now: datetime) -> datetime:
        """When a refused API may be called again: eBay's own rate-limit report says how much is left
        and when the window resets. Calls still left mean a short-window refusal: pause briefly. Without
        a usable report, the next midnight Pacific (when eBay's daily limits reset)."""
        fallback = next_daily_reset(now, self.config.quota_reset_tz)
        try:
            body = self.analytics.get(
                self.base + RATE_LIMIT_PATH, params={"api_context": "buy"}, context={"kind": "ebay.rate_limit"}
            )
        except MarketplaceError:
            return fallback
        state = quota_state(body, resource or "")
        if state is None:
            return fallback
        remaining, reset = state
        if remaining > 0:
            return now + timedelta(seconds=self.config.http.max_retry_after_s)
        return reset if reset is not None and reset > now else fallback

    def _mint(self) -> tuple[str, float]:
        basic = base64.b64encode(f"{self.config.client_id}:{self.config.client_secret}".encode()).decode()
        body = self.token_client.call(
            "POST",
            self.base + TOKEN_PATH,
            data={"grant_type": "client_credentials", "scope": self.config.scope},
            headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
            authenticated=False,
            context={"kind": "ebay.token"},
        )
        try:
            return str(body["access_token"]), float(body.get("expires_in", 7200))
        except (KeyError, TypeError, ValueError):
            raise MarketplaceError("eBay token response has no access_token") from None

    # --- Browse: listing snapshots ----------------------------------------------------------------

    def search_params(self, source: ProductSource, offset: int) -> dict[str, Any]:
        filters = ["buyingOptions:{FIXED_PRICE}", "conditionIds:{1000}", "itemLocationCountry:US"]
        low, high = source.rules.price_min, source.rules.price_max
        if low is not None or high is not None:
            filters += [f"price:[{low if low is not None else ''}..{high if high is not None else ''}]"]
            filters += ["priceCurrency:USD"]
        return {
            "q": source.search_query or source.name,
            "category_ids": source.category_id or SEALED_BOOSTER_BOX_CATEGORY,
            "filter": ",".join(filters),
            "sort": "price",
            "limit": self.config.page_limit,
            "offset": offset,
        }

    def fetch_listing_pages(self, source: ProductSource, observed_at: datetime) -> list[dict[str, Any]]:
        """Every page of the product's search; raises (and so fails the snapshot) if any page fails."""
        pages: list[dict[str, Any]] = []
        offset = 0
        while True:
            context = {
                "kind": BROWSE_PAYLOAD,
                "product_id": source.product_id,
                "observed_at": observed_at.isoformat(),
                "offset": offset,
                "limit": self.config.page_limit,
            }
            body = self.browse.get(self.base + SEARCH_PATH, params=self.search_params(source, offset), context=context)
            page = self._checked(parse_search_page, body, offset)
            pages.append(body)
            offset += self.config.page_limit
            if page_is_last(page, offset):
                return pages
            if offset >= MAX_RESULT_WINDOW:
                raise BadPage(f"over {MAX_RESULT_WINDOW} results: narrow the search of product {source.product_id}")

    def _checked(self, parse: Callable[[Any], Page], body: Any, offset: int) -> Page:
        """A 200 that is not a result page is a failed call too: counted on the run, then raised."""
        try:
            return parse(body)
        except BadPage as exc:
            self.recorder.failed(f"page at offset {offset}: {exc}")
            raise

    # --- Marketplace Insights: sales ---------------------------------------------------------------

    def fetch_sale_pages(self, source: ProductSource, since: datetime | None) -> list[dict[str, Any]]:
        pages: list[dict[str, Any]] = []
        offset = 0
        while True:
            params = self.search_params(source, offset)
            params.pop("sort")
            if since is not None:
                params["filter"] += f",lastSoldDate:[{since.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}..]"
            context = {"kind": SALES_PAYLOAD, "product_id": source.product_id, "offset": offset}
            body = self.insights.get(self.base + SALES_PATH, params=params, context=context)
            page = self._checked(parse_sales_page, body, offset)
            pages.append(body)
            offset += self.config.page_limit
            if page_is_last(page, offset) or offset >= MAX_RESULT_WINDOW:
                return pages


@dataclass(frozen=True)
class Page:
    items: list[Mapping[str, Any]]
    total: int
    has_next: bool


def _page(body: Any, key: str) -> Page:
    if not isinstance(body, Mapping):
        raise BadPage("search page is not a JSON object")
    total = body.get("total", 0)
    items = body.get(key, [])  # eBay leaves the list out when nothing matched
    if not isinstance(total, int) or not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
        raise BadPage(f"search page has no usable total/{key}")
    return Page(items, total, bool(body.get("next")))


def parse_search_page(body: Any) -> Page:
    return _page(body, "itemSummaries")


def parse_sales_page(body: Any) -> Page:
    return _page(body, "itemSales")


def page_is_last(page: Page, next_offset: int) -> bool:
    return not page.items or not page.has_next or next_offset >= page.total


def _money(value: Any) -> tuple[Decimal, str] | None:
    if not isinstance(value, Mapping):
        return None
    try:
        amount = Decimal(str(value.get("value")))
    except InvalidOperation:
        return None
    return (amount, str(value.get("currency") or "USD")) if amount.is_finite() else None


def _shipping(item: Mapping[str, Any]) -> Decimal | None:
    options = item.get("shippingOptions")
    if not options:
        return Decimal(0) if item.get("shippingOptions") == [] else None
    costs = [_money(o.get("shippingCost")) for o in options if isinstance(o, Mapping)]
    known = [c[0] for c in costs if c is not None]
    return min(known) if known else None


def listings_from_pages(pages: Sequence[Any], source: ProductSource) -> tuple[list[Listing], Counter[str]]:
    """The listings that are this product, one box per unit, from a snapshot's pages."""
    listings: list[Listing] = []
    rejected: Counter[str] = Counter()
    seen: set[str] = set()
    for body in pages:
        for item in parse_search_page(body).items:
            item_id = str(item.get("legacyItemId") or item.get("itemId") or "")
            if item_id in seen:  # items shift between pages while paging: keep the first sighting
                continue
            seen.add(item_id)
            reason, listing = _listing(item, item_id, source)
            if listing is None:
                rejected[reason or "rejected"] += 1
            else:
                listings.append(listing)
    return listings, rejected


def _listing(item: Mapping[str, Any], item_id: str, source: ProductSource) -> tuple[str | None, Listing | None]:
    if "FIXED_PRICE" not in (item.get("buyingOptions") or ["FIXED_PRICE"]):
        return "not_fixed_price", None
    verdict = judge(str(item.get("title") or ""), source.rules)
    if not verdict.accepted:
        return verdict.reason, None
    price = _money(item.get("price"))
    if price is None:
        return "invalid_price", None
    shipping = _shipping(item)
    if shipping is None:
        return "shipping_unknown", None  # a landed price we cannot know would bias the floor
    unit_price = per_unit(price[0], verdict.units)
    if not in_price_band(unit_price, source.rules):
        return "outside_price_band", None
    seller = item.get("seller")
    return None, Listing(
        listing_id=item_id,
        seller_id=str(seller.get("username") or "") if isinstance(seller, Mapping) else "",
        unit_price=unit_price,
        shipping=per_unit(shipping, verdict.units),
        quantity=verdict.units,
        currency=price[1],
    )


def _sold_at(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def sales_from_pages(
    pages: Sequence[Any], source: ProductSource, units_recorded: Mapping[str, int]
) -> tuple[list[Sale], Counter[str]]:
    """New sales: eBay reports one row per listing with its running total of units sold, so a sale is
    the increase over the units already recorded for that listing, at the last sold date and price."""
    sales: list[Sale] = []
    rejected: Counter[str] = Counter()
    seen: set[str] = set()
    for body in pages:
        for item in parse_sales_page(body).items:
            item_id = str(item.get("legacyItemId") or item.get("itemId") or "")
            if not item_id or item_id in seen:
                continue
            seen.add(item_id)
            verdict = judge(str(item.get("title") or ""), source.rules)
            if not verdict.accepted:
                rejected[verdict.reason or "rejected"] += 1
                continue
            price, sold_at = _money(item.get("lastSoldPrice")), _sold_at(item.get("lastSoldDate"))
            total = item.get("totalSoldQuantity")
            if price is None or sold_at is None or not isinstance(total, int) or total <= 0:
                rejected["unreadable_sale"] += 1
                continue
            unit_price = per_unit(price[0], verdict.units)
            if not in_price_band(unit_price, source.rules):
                rejected["outside_price_band"] += 1
                continue
            new_lots = total - units_recorded.get(item_id, 0) // verdict.units
            if new_lots <= 0:
                continue
            sales.append(
                Sale(
                    product_id=source.product_id,
                    sold_at=sold_at,
                    sale_key=f"{item_id}:{total}",
                    unit_price=unit_price,
                    quantity=new_lots * verdict.units,
                    currency=price[1],
                    listing_id=item_id,
                )
            )
    return sales, rejected
