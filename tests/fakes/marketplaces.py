"""Fake TCGplayer (official API and the tcgcsv mirror) and eBay (Browse, Marketplace Insights, OAuth)
served over real HTTP on loopback from the simulated market's state, in the real JSON shapes.

The same server is TCGplayer's image host (`/cdn/...`, the catalog's and the mirror's `imageUrl`): each
product has a real PNG there; tests put other bodies in `images` (too large, not an image) or delete one
(a 404).

Faults are injected per request: a status with headers and body (429 + Retry-After, 500/503, eBay's
429 errorId 2001, 401), a delay longer than the client's timeout, a malformed or truncated body, or a
connection closed mid-body. Every request is recorded (time, path, query, headers) for assertions.
"""

from __future__ import annotations

import base64
import contextlib
import json
import struct
import threading
import time
import urllib.parse
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

from jobs.sim.market import MarketState

TCG_PUBLIC, TCG_PRIVATE = "tcg-public-key", "tcg-private-key"
EBAY_ID, EBAY_SECRET = "ebay-client-id", "ebay-client-secret"
CATEGORY = 68  # One Piece
UNTRACKED_PRODUCT = 999_999


@dataclass
class Fault:
    """Applies to the next `times` requests whose path contains `path` (and whose query has `query`)."""

    path: str
    status: int = 500
    body: bytes | dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    times: int = 1
    query: dict[str, str] = field(default_factory=dict)
    cut_connection: bool = False  # announce a longer body than is sent, then close
    unsized: bool = False  # send the body with no Content-Length, ended by closing the connection

    def matches(self, path: str, query: dict[str, str]) -> bool:
        return self.times > 0 and self.path in path and all(query.get(k) == v for k, v in self.query.items())


@dataclass
class Recorded:
    at: float
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    status: int = 0


@dataclass
class FakeProduct:
    product_id: int
    tcgplayer_id: str
    query: str
    name: str
    group_id: int


def png(rgb: tuple[int, int, int], size: int = 2) -> bytes:
    """A real PNG image of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def image_path(tcgplayer_id: str) -> str:
    return f"/cdn/product/{tcgplayer_id}_200w.png"


def ebay_error(error_id: int, message: str) -> dict[str, Any]:
    return {
        "errors": [
            {
                "errorId": error_id,
                "domain": "ACCESS",
                "category": "REQUEST",
                "message": message,
                "longMessage": message,
                "inputRefIds": [],
                "outputRefIds": [],
                "parameters": [],
            }
        ],
        "warnings": [],
    }


def quota_spent() -> Fault:
    return Fault("/buy/", status=429, body=ebay_error(2001, "Too many requests."), times=1000)


class FakeMarketplaces:
    def __init__(self, products: list[FakeProduct], *, seed: int = 7, start: datetime | None = None) -> None:
        self.products = products
        self.start_time = start or datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
        self.state = MarketState.new(seed, self.start_time)
        self.state.add_products(
            np.array([p.product_id for p in products], dtype=np.int64),
            np.array([150.0 + 20 * i for i in range(len(products))]),
            self.start_time,
        )
        self.index = {p.product_id: i for i, p in enumerate(products)}
        # eBay sold items: per listing, units sold so far and the last sale.
        self.sold: dict[int, dict[int, dict[str, Any]]] = {p.product_id: {} for p in products}
        self.noise: dict[int, list[dict[str, Any]]] = {p.product_id: [] for p in products}
        self.faults: list[Fault] = []
        self.requests: list[Recorded] = []
        self.tokens: dict[str, str] = {}  # token -> api
        self.token_lifetime = {"tcgplayer": 1209599, "ebay": 7200}
        self.minted = {"tcgplayer": 0, "ebay": 0}
        self.last_updated = datetime(2026, 11, 21, 20, 5, 27, tzinfo=UTC)
        # eBay's rate-limit report (Analytics API): resource -> (calls remaining, window reset).
        self.quota: dict[str, tuple[int, datetime]] = {
            "buy.browse": (4999, self.start_time + timedelta(days=3)),
        }
        # Called after a search page at this offset was served: the market moving while a client pages.
        self.after_page: dict[int, Any] = {}
        # The image host: path -> (body, Content-Type); a missing path is a 404.
        self.images: dict[str, tuple[bytes, str]] = {
            image_path(p.tcgplayer_id): (png((40 * i % 256, 90, 160)), "image/png") for i, p in enumerate(products)
        }
        self.base_url = ""
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- the market ------------------------------------------------------------------------------

    def advance(self, hours: float) -> None:
        """Move the simulated market forward; eBay-like trades become sold items."""
        with self.lock:
            until = self.state.time + timedelta(hours=hours)
            step = self.state.step(until)
            trades = step.trades["sim-ebay"]
            for p, lid, price, ship, units in zip(
                trades.product.tolist(),
                trades.listing_id.tolist(),
                trades.price.tolist(),
                trades.shipping.tolist(),
                trades.units.tolist(),
                strict=True,
            ):
                pid = int(self.state.product_ids[p])
                item = self.sold[pid].setdefault(lid, {"units": 0})
                item.update(units=item["units"] + units, price=price, shipping=ship, at=until)

    def book(self, product_id: int) -> list[dict[str, Any]]:
        """The eBay-like book of one product as Browse item summaries, cheapest first."""
        i = self.index[product_id]
        product = self.products[i]
        book = self.state.books["sim-ebay"]
        slots = np.flatnonzero(book.active[i])
        items = [
            self._item(
                product,
                int(book.listing_id[i, s]),
                int(book.seller[i, s]),
                int(book.price[i, s]),
                int(book.shipping[i, s]),
            )
            for s in slots
        ]
        items += self.noise[product_id]
        return sorted(items, key=lambda it: (float(it["price"]["value"]), it["itemId"]))

    @staticmethod
    def _item(
        product: FakeProduct, lid: int, seller: int, price: int, shipping: int, title: str = ""
    ) -> dict[str, Any]:
        return {
            "itemId": f"v1|{lid}|0",
            "legacyItemId": str(lid),
            "title": title or f"{product.name} Booster Box English Factory Sealed",
            "leafCategoryIds": ["183456"],
            "categories": [{"categoryId": "183456", "categoryName": "CCG Sealed Booster Boxes"}],
            "image": {"imageUrl": f"https://i.ebayimg.com/{lid}.jpg"},
            "price": {"value": f"{price // 100}.{price % 100:02d}", "currency": "USD"},
            "itemHref": f"https://api.ebay.com/buy/browse/v1/item/v1%7C{lid}%7C0",
            "seller": {"username": f"seller-{seller}", "feedbackPercentage": "99.9", "feedbackScore": 1234},
            "condition": "New",
            "conditionId": "1000",
            "shippingOptions": [
                {"shippingCostType": "FIXED", "shippingCost": {"value": f"{shipping / 100:.2f}", "currency": "USD"}}
            ],
            "buyingOptions": ["FIXED_PRICE"],
            "itemWebUrl": f"https://www.ebay.com/itm/{lid}",
            "itemLocation": {"postalCode": "112**", "country": "US"},
            "listingMarketplaceId": "EBAY_US",
        }

    def add_noise(self, product_id: int, title: str, price_cents: int, lid: int) -> None:
        """A listing that is not the product (or a lot) in the product's search results."""
        product = self.products[self.index[product_id]]
        self.noise[product_id].append(self._item(product, lid, 1, price_cents, 0, title))

    def tcg_prices(self, product: FakeProduct) -> list[dict[str, Any]]:
        i = self.index[product.product_id]
        book = self.state.books["sim-tcgplayer"]
        prices = book.price[i][book.active[i]] / 100
        market = round(float(self.state.market_price[i]), 2)
        low = round(float(prices.min()), 2) if len(prices) else None
        return [
            {
                "productId": int(product.tcgplayer_id),
                "lowPrice": low,
                "midPrice": round(float(np.median(prices)), 2) if len(prices) else None,
                "highPrice": round(float(prices.max()), 2) if len(prices) else None,
                "marketPrice": market,
                "directLowPrice": None,
                "subTypeName": "Normal",
            }
        ]

    # --- the server ------------------------------------------------------------------------------

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self.base_url

    def image_url(self, product: FakeProduct) -> str:
        return self.base_url + image_path(product.tcgplayer_id)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def calls(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if path in r.path]

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urllib.parse.urlsplit(handler.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        length = int(handler.headers.get("Content-Length") or 0)
        form = dict(urllib.parse.parse_qsl(handler.rfile.read(length).decode())) if length else {}
        record = Recorded(time.monotonic(), method, url.path, query, dict(handler.headers.items()))
        with self.lock:
            self.requests.append(record)
            fault = next((f for f in self.faults if f.matches(url.path, query)), None)
            if fault is not None:
                fault.times -= 1
        if fault is not None:
            if fault.delay_s:
                time.sleep(fault.delay_s)
            if fault.cut_connection:
                record.status = 200
                handler.send_response(200)
                handler.send_header("Content-Type", "application/json")
                handler.send_header("Content-Length", "5000")
                handler.end_headers()
                handler.wfile.write(b'{"total": 3, "itemSummaries": [')
                handler.wfile.flush()
                handler.close_connection = True
                return
            if fault.unsized:
                record.status = fault.status
                handler.send_response(fault.status)
                handler.send_header("Connection", "close")
                handler.end_headers()
                handler.close_connection = True
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client had enough
                    handler.wfile.write(
                        fault.body if isinstance(fault.body, bytes) else json.dumps(fault.body).encode()
                    )
                return
            if fault.body is not None or fault.status != 200:
                self._send(handler, record, fault.status, fault.body if fault.body is not None else {}, fault.headers)
                return
        try:
            status, body, headers = self._route(method, url.path, query, form, handler)
        except Exception as exc:
            status, body, headers = 500, {"errors": [repr(exc)]}, {}
        self._send(handler, record, status, body, headers)

    def _send(
        self,
        handler: BaseHTTPRequestHandler,
        record: Recorded,
        status: int,
        body: bytes | str | dict[str, Any] | list[Any],
        headers: dict[str, str],
    ) -> None:
        record.status = status
        data = (
            body if isinstance(body, bytes) else body.encode() if isinstance(body, str) else json.dumps(body).encode()
        )
        try:
            handler.send_response(status)
            ctype = "text/plain" if isinstance(body, str) else "application/json"
            handler.send_header("Content-Type", headers.get("Content-Type", ctype))
            handler.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                if name != "Content-Type":
                    handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and left

    def _mint(self, api: str) -> str:
        with self.lock:
            self.minted[api] += 1
            token = f"{api}-token-{self.minted[api]}"
            self.tokens[token] = api
        return token

    def _bearer(self, handler: BaseHTTPRequestHandler, api: str) -> bool:
        auth = handler.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        return scheme.lower() == "bearer" and self.tokens.get(token) == api

    def _route(
        self, method: str, path: str, query: dict[str, str], form: dict[str, str], handler: BaseHTTPRequestHandler
    ) -> tuple[int, Any, dict[str, str]]:
        if path.startswith("/tcgplayer/"):
            return self._tcgplayer(method, path.removeprefix("/tcgplayer"), query, form, handler)
        if path.startswith("/tcgcsv/"):
            return self._tcgcsv(path.removeprefix("/tcgcsv"))
        if path.startswith("/ebay/"):
            return self._ebay(method, path.removeprefix("/ebay"), query, form, handler)
        if path.startswith("/cdn/") and method == "GET":
            if path not in self.images:
                return 404, b"<html>Not Found</html>", {"Content-Type": "text/html"}
            body, content_type = self.images[path]
            return 200, body, {"Content-Type": content_type, "Cache-Control": "max-age=86400"}
        return 404, {"errors": ["no such API"]}, {}

    # --- TCGplayer ---------------------------------------------------------------------------------

    def _tcgplayer(
        self, method: str, path: str, query: dict[str, str], form: dict[str, str], handler: BaseHTTPRequestHandler
    ) -> tuple[int, Any, dict[str, str]]:
        if path == "/token" and method == "POST":
            if (form.get("grant_type"), form.get("client_id"), form.get("client_secret")) != (
                "client_credentials",
                TCG_PUBLIC,
                TCG_PRIVATE,
            ):
                return 400, {"error": "invalid_client"}, {}
            return (
                200,
                {
                    "access_token": self._mint("tcgplayer"),
                    "token_type": "bearer",
                    "expires_in": self.token_lifetime["tcgplayer"],
                    "userName": "apitestuser@example.com",
                    ".issued": "Mon, 11 Mar 2019 08:47:03 GMT",
                    ".expires": "Mon, 25 Mar 2019 08:47:03 GMT",
                },
                {},
            )
        if not self._bearer(handler, "tcgplayer"):
            return 401, {"success": False, "errors": ["Unauthorized: the access token is invalid or expired."]}, {}
        parts = path.strip("/").split("/")
        if parts[:3] == ["v1.39.0", "pricing", "product"] and len(parts) == 4:
            ids = parts[3].split(",")
            if len(ids) > 250:
                return 400, {"success": False, "errors": ["Too many product ids."], "results": []}, {}
            by_id = {p.tcgplayer_id: p for p in self.products}
            rows = [row for i in ids if i in by_id for row in self.tcg_prices(by_id[i])]
            unknown = [i for i in ids if i not in by_id]
            if not rows:
                return 404, {"success": False, "errors": ["No products were found."], "results": []}, {}
            errors = [f"Invalid productId: {i}" for i in unknown]
            return 200, {"success": True, "errors": errors, "results": rows}, {}
        if parts[:3] == ["v1.39.0", "catalog", "products"]:
            found = [p for p in self.products if len(parts) == 4 and p.tcgplayer_id in parts[3].split(",")]
            if len(parts) == 3:
                name = query.get("productName", "").lower()
                found = [p for p in self.products if name and name in p.name.lower()]
            results = [
                {
                    "productId": int(p.tcgplayer_id),
                    "name": p.name,
                    "cleanName": p.name,
                    "categoryId": CATEGORY,
                    "groupId": p.group_id,
                    "imageUrl": self.image_url(p),
                    "url": f"https://www.tcgplayer.com/product/{p.tcgplayer_id}",
                }
                for p in found
            ]
            if not results:
                return 404, {"success": False, "errors": ["No products were found."], "results": []}, {}
            return 200, {"totalItems": len(results), "success": True, "errors": [], "results": results}, {}
        return 404, {"success": False, "errors": ["Not found."], "results": []}, {}

    def _tcgcsv(self, path: str) -> tuple[int, Any, dict[str, str]]:
        if path == "/last-updated.txt":
            return 200, self.last_updated.strftime("%Y-%m-%dT%H:%M:%S+0000"), {}
        parts = path.strip("/").split("/")
        envelope: dict[str, Any] = {"success": True, "errors": []}
        if parts == ["tcgplayer", "categories"]:
            rows = [{"categoryId": c, "name": n} for c, n in ((1, "Magic"), (3, "Pokemon"), (CATEGORY, "One Piece"))]
            return 200, {"totalItems": len(rows), **envelope, "results": rows}, {}
        if len(parts) == 3 and parts[2] == "groups":
            groups = sorted({p.group_id for p in self.products}) if int(parts[1]) == CATEGORY else []
            rows = [{"groupId": g, "name": f"Set {g}", "categoryId": int(parts[1])} for g in groups]
            return 200, {"totalItems": len(rows), **envelope, "results": rows}, {}
        if len(parts) == 4 and parts[3] == "prices":
            group = int(parts[2])
            rows = [row for p in self.products if p.group_id == group for row in self.tcg_prices(p)]
            rows.append(
                {
                    "productId": UNTRACKED_PRODUCT,
                    "lowPrice": 1.0,
                    "midPrice": 2.0,
                    "highPrice": 3.0,
                    "marketPrice": 2.0,
                    "directLowPrice": None,
                    "subTypeName": "Normal",
                }
            )
            return 200, {**envelope, "results": rows}, {}  # prices leave out totalItems
        if len(parts) == 4 and parts[3] == "products":
            group = int(parts[2])
            rows = [
                {
                    "productId": int(p.tcgplayer_id),
                    "name": p.name,
                    "cleanName": p.name,
                    "imageUrl": self.image_url(p),
                    "categoryId": int(parts[1]),
                    "groupId": group,
                    "url": f"https://www.tcgplayer.com/product/{p.tcgplayer_id}",
                    "extendedData": [],
                }
                for p in self.products
                if p.group_id == group
            ]
            rows.append({"productId": UNTRACKED_PRODUCT, "name": "Not ours", "imageUrl": None, "groupId": group})
            return 200, {"totalItems": len(rows), **envelope, "results": rows}, {}
        return 404, {"success": False, "errors": ["Not found."], "results": []}, {}

    # --- eBay --------------------------------------------------------------------------------------

    def _ebay(
        self, method: str, path: str, query: dict[str, str], form: dict[str, str], handler: BaseHTTPRequestHandler
    ) -> tuple[int, Any, dict[str, str]]:
        if path == "/identity/v1/oauth2/token" and method == "POST":
            expected = "Basic " + base64.b64encode(f"{EBAY_ID}:{EBAY_SECRET}".encode()).decode()
            if handler.headers.get("Authorization") != expected or form.get("grant_type") != "client_credentials":
                return 401, {"error": "invalid_client", "error_description": "client authentication failed"}, {}
            token = self._mint("ebay")
            body = {
                "access_token": token,
                "expires_in": self.token_lifetime["ebay"],
                "token_type": "Application Access Token",
            }
            return 200, body, {}
        if not self._bearer(handler, "ebay"):
            return 401, ebay_error(1001, "Invalid access token"), {}
        if handler.headers.get("X-EBAY-C-MARKETPLACE-ID") != "EBAY_US":
            return 400, ebay_error(12001, "The marketplace value is missing or invalid."), {}
        if path == "/developer/analytics/v1_beta/rate_limit/":
            return 200, self._rate_limits(query), {}
        product = next((p for p in self.products if p.query == query.get("q")), None)
        limit, offset = int(query.get("limit", 50)), int(query.get("offset", 0))
        if limit > 200 or offset > 10_000:
            return 400, ebay_error(12002, "limit or offset out of range"), {}
        if path == "/buy/browse/v1/item_summary/search":
            with self.lock:
                items = self.book(product.product_id) if product else []
            page = self._page(path, query, items, "itemSummaries", limit, offset)
            hook = self.after_page.pop(offset, None)
            if hook is not None and product is not None:
                hook(product.product_id)
            return 200, page, {}
        if path == "/buy/marketplace_insights/v1_beta/item_sales/search":
            with self.lock:
                items = self._sales(product) if product else []
            return 200, self._page(path, query, items, "itemSales", limit, offset), {}
        return 404, ebay_error(2002, "Resource not found"), {}

    def _rate_limits(self, query: dict[str, str]) -> dict[str, Any]:
        resources = [
            {
                "name": name,
                "rates": [
                    {
                        "limit": 5000,
                        "remaining": remaining,
                        "reset": reset.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                        "timeWindow": 86400,
                    }
                ],
            }
            for name, (remaining, reset) in self.quota.items()
        ]
        api = {"apiContext": query.get("api_context", "buy"), "apiName": "Browse", "apiVersion": "v1"}
        return {"rateLimits": [{**api, "resources": resources}]}

    def _sales(self, product: FakeProduct) -> list[dict[str, Any]]:
        rows = []
        for lid, sold in sorted(self.sold[product.product_id].items()):
            item = self._item(product, lid, 1, sold["price"], sold["shipping"])
            for key in ("shippingOptions", "price", "listingMarketplaceId"):
                item.pop(key)
            item.update(
                lastSoldDate=sold["at"].strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                lastSoldPrice={"value": f"{sold['price'] / 100:.2f}", "currency": "USD"},
                totalSoldQuantity=sold["units"],
            )
            rows.append(item)
        return rows

    @staticmethod
    def _page(
        path: str, query: dict[str, str], items: list[dict[str, Any]], key: str, limit: int, offset: int
    ) -> dict[str, Any]:
        def href(at: int) -> str:
            return "https://api.ebay.com" + path + "?" + urllib.parse.urlencode({**query, "offset": at, "limit": limit})

        page: dict[str, Any] = {"href": href(offset), "total": len(items), "limit": limit, "offset": offset}
        chunk = items[offset : offset + limit]
        if chunk:  # eBay leaves the list out when there is nothing on the page
            page[key] = chunk
        if offset + limit < len(items):
            page["next"] = href(offset + limit)
        if offset > 0:
            page["prev"] = href(max(0, offset - limit))
        page["warnings"] = []
        return page
