"""A seeded, deterministic market model, vectorised over products with numpy.

Per product there is a latent value (a random walk with drift, plus shocks such as reprint news or
hype). Each marketplace keeps an order book per product in fixed-capacity arrays (products x slots):
sellers list boxes a little above the value, reprice and undercut, relist under new ids, and take
down what does not sell; price-sensitive buyers arrive at random and take the cheapest units they
are willing to pay for. What the marketplaces would show is emitted: full listing snapshots for a
TCGplayer-like and an eBay-like marketplace, reported sales for the eBay-like one, daily price
points for the TCGplayer-like one.

Randomness for each step is drawn from a generator seeded with (seed, step time), so the same seed
and catalog give the same market however the time range is split into calls.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from service.core.ingest.records import ListingBatch

SLOTS = 64  # listing capacity per product and marketplace
MAX_BUYERS = 8  # buyers served per product, marketplace and step
QUANTITIES = np.array([1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4, 6])
SELLERS = 4000

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class MarketplaceModel:
    code: str
    id_prefix: str
    buyers_per_day: float
    listings_per_day: float
    markup: float  # mean log markup of new asks over the value
    markup_sd: float
    shipping_cents: tuple[int, ...]
    reports_sales: bool
    reports_prices: bool


MARKETPLACES = (
    MarketplaceModel("sim-tcgplayer", "T", 4.0, 4.0, 0.07, 0.06, (0, 0, 0, 599), False, True),
    MarketplaceModel("sim-ebay", "E", 2.5, 3.0, 0.09, 0.08, (0, 999, 1499, 1999), True, False),
)


@dataclass
class Book:
    active: BoolArray
    listing_id: IntArray
    seller: IntArray
    price: IntArray  # unit price, cents
    shipping: IntArray  # cents
    quantity: IntArray

    @classmethod
    def empty(cls, products: int) -> Book:
        shape = (products, SLOTS)
        return cls(
            np.zeros(shape, bool),
            *(np.zeros(shape, np.int64) for _ in range(5)),
        )

    def arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        return {
            name: getattr(self, name) for name in ("active", "listing_id", "seller", "price", "shipping", "quantity")
        }

    def extend(self, products: int) -> None:
        more = Book.empty(products)
        for name, values in self.arrays().items():
            setattr(self, name, np.concatenate([values, getattr(more, name)]))


@dataclass
class Trades:
    """Units bought in one step on one marketplace."""

    product: IntArray  # index into the state's products
    listing_id: IntArray
    price: IntArray
    shipping: IntArray
    units: IntArray


@dataclass
class PricePoints:
    product: IntArray
    market: FloatArray
    low: FloatArray
    mid: FloatArray
    high: FloatArray
    direct_low: FloatArray


@dataclass
class StepResult:
    time: datetime
    trades: dict[str, Trades]
    price_points: PricePoints | None


@dataclass
class MarketState:
    seed: int
    time: datetime
    product_ids: IntArray
    log_value: FloatArray  # log of the latent value in dollars
    drift: FloatArray  # per day
    volatility: FloatArray  # per sqrt(day)
    popularity: FloatArray
    reprint_share: FloatArray  # share of shocks that are bad news
    market_price: FloatArray  # TCGplayer-like market price (EWMA of its sales), dollars
    next_listing_id: int = 1
    books: dict[str, Book] = field(default_factory=dict)

    @property
    def products(self) -> int:
        return len(self.product_ids)

    def add_products(self, product_ids: IntArray, start_values: FloatArray, time: datetime) -> None:
        """Bring products into the market with a stocked book around their starting value."""
        rng = np.random.default_rng([self.seed, 7, *product_ids[:1].tolist(), len(product_ids)])
        n = len(product_ids)
        first = self.products
        self.product_ids = np.concatenate([self.product_ids, product_ids])
        self.log_value = np.concatenate([self.log_value, np.log(start_values)])
        self.drift = np.concatenate([self.drift, rng.normal(0.0004, 0.0012, n)])
        self.volatility = np.concatenate([self.volatility, rng.uniform(0.008, 0.025, n)])
        self.popularity = np.concatenate([self.popularity, rng.lognormal(0.0, 0.6, n)])
        self.reprint_share = np.concatenate([self.reprint_share, rng.uniform(0.2, 0.7, n)])
        self.market_price = np.concatenate([self.market_price, start_values * 1.02])
        for model in MARKETPLACES:
            book = self.books.setdefault(model.code, Book.empty(0))
            book.extend(n)
            rows = np.arange(first, first + n)
            stock = np.minimum(SLOTS, rng.poisson(25 * self.popularity[rows].clip(0.5, 2)))
            self._list(book, model, rows, stock, rng)
        self.time = time

    def _list(
        self, book: Book, model: MarketplaceModel, rows: IntArray, count: IntArray, rng: np.random.Generator
    ) -> None:
        """Put `count[i]` new listings for product `rows[i]` into free slots (dropped when full)."""
        free = ~book.active[rows]
        rank = np.cumsum(free, axis=1)
        new = free & (rank <= count[:, None])
        p_idx, slot = np.nonzero(new)
        p = rows[p_idx]
        n = len(p)
        if n == 0:
            return
        value_cents = np.exp(self.log_value[p]) * 100
        shipping = rng.choice(np.array(model.shipping_cents), n)
        landed = value_cents * np.exp(rng.normal(model.markup, model.markup_sd, n))
        book.active[p, slot] = True
        book.listing_id[p, slot] = self.next_listing_id + np.arange(n)
        self.next_listing_id += n
        book.seller[p, slot] = rng.integers(0, SELLERS, n)
        book.price[p, slot] = np.maximum(100, np.round(landed - shipping)).astype(np.int64)
        book.shipping[p, slot] = shipping
        book.quantity[p, slot] = rng.choice(QUANTITIES, n)

    def step(self, until: datetime) -> StepResult:
        dt = (until - self.time).total_seconds() / 86400
        if dt <= 0:
            raise ValueError("steps move forward in time")
        rng = np.random.default_rng([self.seed, int(until.timestamp())])
        n = self.products
        # The latent value: drift, noise, and now and then a shock (reprint news or hype).
        self.log_value += self.drift * dt + self.volatility * np.sqrt(dt) * rng.standard_normal(n)
        shocked = rng.random(n) < 1 - np.exp(-dt / 60)
        bad = rng.random(n) < self.reprint_share
        self.log_value += shocked * np.where(bad, -rng.uniform(0.08, 0.22, n), rng.uniform(0.06, 0.25, n))
        value_cents = np.exp(self.log_value) * 100

        trades = {m.code: self._trade(m, value_cents, dt, rng) for m in MARKETPLACES}
        tcg_like = next(m for m in MARKETPLACES if m.reports_prices)
        self._update_market_price(trades[tcg_like.code], dt)
        crossed_day = until.date() != self.time.date()
        self.time = until
        points = self._price_points(self.books[tcg_like.code]) if crossed_day else None
        return StepResult(until, trades, points)

    def _trade(self, model: MarketplaceModel, value_cents: FloatArray, dt: float, rng: np.random.Generator) -> Trades:
        book = self.books[model.code]
        n = self.products
        landed = (book.price + book.shipping).astype(np.float64)
        value = value_cents[:, None]
        # Sellers take down asks far above the value, and now and then anything.
        withdraw_rate = np.where(landed > 1.25 * value, 0.6, 0.07)
        book.active &= rng.random(landed.shape) >= 1 - np.exp(-withdraw_rate * dt)
        # Relists: the same box under a new listing id.
        relist = book.active & (rng.random(landed.shape) < 1 - np.exp(-0.04 * dt))
        book.listing_id[relist] = self.next_listing_id + np.arange(int(relist.sum()))
        self.next_listing_id += int(relist.sum())
        # Repricing: back toward the value, half the time undercutting the cheapest ask.
        reprice = book.active & (rng.random(landed.shape) < 1 - np.exp(-0.25 * dt))
        target = value * np.exp(rng.normal(model.markup * 0.5, model.markup_sd, landed.shape))
        floor = np.where(book.active, landed, np.inf).min(axis=1, keepdims=True)
        undercut = rng.random(landed.shape) < 0.5
        target = np.where(undercut & np.isfinite(floor), np.maximum(floor * 0.99, 0.97 * value), target)
        new_price = np.maximum(100, np.round(target - book.shipping)).astype(np.int64)
        book.price = np.where(reprice, new_price, book.price)

        # Buyers, most eager first, take the cheapest units they are willing to pay for.
        buyers = np.minimum(MAX_BUYERS, rng.poisson(model.buyers_per_day * self.popularity * dt))
        reservation = value * np.exp(rng.normal(0.02, 0.06, (n, MAX_BUYERS)))
        reservation = -np.sort(-reservation, axis=1)
        reservation[np.arange(MAX_BUYERS)[None, :] >= buyers[:, None]] = -np.inf
        landed = np.where(book.active, book.price + book.shipping, np.iinfo(np.int64).max).astype(np.float64)
        order = np.argsort(landed, axis=1, kind="stable")
        sorted_landed = np.take_along_axis(landed, order, axis=1)
        sorted_qty = np.take_along_axis(np.where(book.active, book.quantity, 0), order, axis=1)
        cumulative = np.cumsum(sorted_qty, axis=1)
        unit = np.arange(MAX_BUYERS)
        position = (cumulative[:, None, :] > unit[None, :, None]).argmax(axis=2)
        unit_price = np.take_along_axis(sorted_landed, position, axis=1)
        available = cumulative[:, -1:] > unit[None, :]
        matched = available & (reservation >= unit_price)
        sold_units = np.cumprod(matched, axis=1).sum(axis=1)
        take_sorted = np.clip(sold_units[:, None] - (cumulative - sorted_qty), 0, sorted_qty)
        take = np.zeros_like(take_sorted)
        np.put_along_axis(take, order, take_sorted, axis=1)
        p, slot = np.nonzero(take)
        trades = Trades(
            product=p.astype(np.int64),
            listing_id=book.listing_id[p, slot].copy(),
            price=book.price[p, slot].copy(),
            shipping=book.shipping[p, slot].copy(),
            units=take[p, slot].astype(np.int64),
        )
        book.quantity -= take
        book.active &= book.quantity > 0

        arrivals = rng.poisson(model.listings_per_day * self.popularity * dt)
        self._list(book, model, np.arange(n), arrivals, rng)
        return trades

    def _update_market_price(self, trades: Trades, dt: float) -> None:
        if len(trades.product) == 0:
            return
        dollars = trades.price / 100
        total = np.bincount(trades.product, weights=dollars * trades.units, minlength=self.products)
        units = np.bincount(trades.product, weights=trades.units, minlength=self.products)
        traded = units > 0
        weight = 1 - np.exp(-dt * units[traded] / 2)
        self.market_price[traded] += weight * (total[traded] / units[traded] - self.market_price[traded])

    def _price_points(self, book: Book) -> PricePoints:
        prices = np.where(book.active, book.price / 100, np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an empty book has no prices: NaN
            low = np.nanmin(prices, axis=1)
            return PricePoints(
                product=np.arange(self.products, dtype=np.int64),
                market=np.round(self.market_price, 2),
                low=low,
                mid=np.nanmedian(prices, axis=1),
                high=np.nanmax(prices, axis=1),
                direct_low=np.round(low * 1.03, 2),
            )

    # --- snapshots --------------------------------------------------------------------------------

    def listing_rows(self, code: str) -> tuple[IntArray, IntArray]:
        """(product index, slot) of every active listing, in a stable order."""
        p, slot = np.nonzero(self.books[code].active)
        return p.astype(np.int64), slot.astype(np.int64)

    # --- persistence ------------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        arrays: dict[str, npt.NDArray[np.generic]] = {
            "meta": np.array([self.seed, int(self.time.timestamp() * 1_000_000), self.next_listing_id], dtype=np.int64),
            "product_ids": self.product_ids,
            "log_value": self.log_value,
            "drift": self.drift,
            "volatility": self.volatility,
            "popularity": self.popularity,
            "reprint_share": self.reprint_share,
            "market_price": self.market_price,
        }
        for code, book in self.books.items():
            arrays.update({f"{code}/{name}": values for name, values in book.arrays().items()})
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> MarketState:
        with np.load(io.BytesIO(data)) as arrays:
            seed, micros, next_id = arrays["meta"].tolist()
            state = cls(
                seed=seed,
                time=datetime.fromtimestamp(micros / 1_000_000, UTC),
                product_ids=arrays["product_ids"],
                log_value=arrays["log_value"],
                drift=arrays["drift"],
                volatility=arrays["volatility"],
                popularity=arrays["popularity"],
                reprint_share=arrays["reprint_share"],
                market_price=arrays["market_price"],
                next_listing_id=next_id,
            )
            for model in MARKETPLACES:
                state.books[model.code] = Book(
                    **{name: arrays[f"{model.code}/{name}"] for name in Book.empty(0).arrays()}
                )
        return state

    @classmethod
    def new(cls, seed: int, time: datetime) -> MarketState:
        empty_f = np.zeros(0, np.float64)
        return cls(seed, time, np.zeros(0, np.int64), *(empty_f.copy() for _ in range(6)))  # type: ignore[arg-type]


def snapshot_batch(
    state: MarketState, code: str, times: list[datetime], books: list[tuple[IntArray, ...]]
) -> ListingBatch:
    """A ListingBatch from book captures taken at `times` (see capture())."""
    model = next(m for m in MARKETPLACES if m.code == code)
    observed: list[datetime] = []
    product_ids: list[IntArray] = []
    snapshot_parts: list[IntArray] = []
    parts: dict[str, list[IntArray]] = {"listing": [], "seller": [], "price": [], "shipping": [], "qty": []}
    for t, (products, listing, seller, price, shipping, qty) in zip(times, books, strict=True):
        # One snapshot per product, even an empty book (that too is an observation).
        base = len(observed)
        observed.extend([t] * state.products)
        product_ids.append(state.product_ids)
        snapshot_parts.append(base + products)
        for key, values in zip(parts, (listing, seller, price, shipping, qty), strict=True):
            parts[key].append(values)
    cat = {key: np.concatenate(values) if values else np.zeros(0, np.int64) for key, values in parts.items()}
    prefix = model.id_prefix
    return ListingBatch(
        marketplace=code,
        observed_at=observed,
        product_id=np.concatenate(product_ids) if product_ids else np.zeros(0, np.int64),
        complete=np.ones(len(observed), dtype=bool),
        snapshot=np.concatenate(snapshot_parts) if snapshot_parts else np.zeros(0, np.int64),
        listing_id=[f"{prefix}{i}" for i in cat["listing"].tolist()],
        seller_id=[f"seller-{s}" for s in cat["seller"].tolist()],
        price_cents=cat["price"],
        shipping_cents=cat["shipping"],
        quantity=cat["qty"],
    )


def capture(state: MarketState, code: str) -> tuple[IntArray, ...]:
    """The book of `code` now, as compact arrays (product index, listing, seller, price, shipping, quantity)."""
    book = state.books[code]
    p, slot = state.listing_rows(code)
    return (
        p,
        book.listing_id[p, slot].copy(),
        book.seller[p, slot].copy(),
        book.price[p, slot].copy(),
        book.shipping[p, slot].copy(),
        book.quantity[p, slot].copy(),
    )


def step_times(start: datetime, end: datetime, step: timedelta) -> list[datetime]:
    """Step instants after `start` up to `end`, aligned to multiples of `step` since the epoch."""
    step_s = int(step.total_seconds())
    first = (int(start.timestamp()) // step_s + 1) * step_s
    last = int(end.timestamp())
    return [datetime.fromtimestamp(t, UTC) for t in range(first, last + 1, step_s)]
