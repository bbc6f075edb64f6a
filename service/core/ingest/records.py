"""Plain records, as adapters return them, and the columnar batch the writer loads.

Money is carried as integer cents from the moment it is parsed, so no float rounding reaches the
database. Adapters build records one by one; the simulated market builds ListingBatch columns
directly with numpy, which is what makes multi-million-row loads fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

import numpy as np
import numpy.typing as npt


def to_cents(amount: Decimal | float | str | int | None) -> int:
    """Dollars to cents; -1 for anything that is not a finite amount (rejected later as invalid_price)."""
    if amount is None:
        return -1
    try:
        value = Decimal(str(amount)) if not isinstance(amount, Decimal) else amount
    except InvalidOperation:
        return -1
    if not value.is_finite():
        return -1
    return int((value * 100).to_integral_value())


@dataclass(frozen=True)
class Listing:
    listing_id: str
    seller_id: str
    unit_price: Decimal | float | str
    quantity: int
    shipping: Decimal | float | str = 0
    currency: str = "USD"


@dataclass(frozen=True)
class Snapshot:
    """Every active listing of one product on one marketplace at one instant."""

    product_id: int
    observed_at: datetime
    listings: Sequence[Listing]
    complete: bool = True


@dataclass(frozen=True)
class Sale:
    product_id: int
    sold_at: datetime
    sale_key: str
    unit_price: Decimal | float | str
    quantity: int
    shipping: Decimal | float | str = 0
    currency: str = "USD"
    listing_id: str | None = None


@dataclass(frozen=True)
class PricePoint:
    product_id: int
    observed_at: datetime
    market_price: Decimal | float | str | None = None
    low_price: Decimal | float | str | None = None
    mid_price: Decimal | float | str | None = None
    high_price: Decimal | float | str | None = None
    direct_low_price: Decimal | float | str | None = None
    currency: str = "USD"


@dataclass
class ListingBatch:
    """Listing snapshots of one marketplace in columns. Row i belongs to snapshot `snapshot[i]`."""

    marketplace: str
    # One entry per snapshot.
    observed_at: list[datetime]
    product_id: npt.NDArray[np.int64]
    complete: npt.NDArray[np.bool_]
    # One entry per listing row.
    snapshot: npt.NDArray[np.int64]
    listing_id: list[str]
    seller_id: list[str]
    price_cents: npt.NDArray[np.int64]
    shipping_cents: npt.NDArray[np.int64]
    quantity: npt.NDArray[np.int64]
    # Rows whose currency is not USD (adapters mark them; the writer rejects them).
    foreign_currency: npt.NDArray[np.bool_] | None = field(default=None)

    @property
    def snapshot_count(self) -> int:
        return len(self.observed_at)

    @property
    def row_count(self) -> int:
        return len(self.listing_id)

    @classmethod
    def from_snapshots(cls, marketplace: str, snapshots: Sequence[Snapshot]) -> ListingBatch:
        rows = [(i, listing) for i, snap in enumerate(snapshots) for listing in snap.listings]
        return cls(
            marketplace=marketplace,
            observed_at=[s.observed_at for s in snapshots],
            product_id=np.array([s.product_id for s in snapshots], dtype=np.int64),
            complete=np.array([s.complete for s in snapshots], dtype=bool),
            snapshot=np.array([i for i, _ in rows], dtype=np.int64),
            listing_id=[str(listing.listing_id) for _, listing in rows],
            seller_id=[str(listing.seller_id or "") for _, listing in rows],
            price_cents=np.array([to_cents(listing.unit_price) for _, listing in rows], dtype=np.int64),
            shipping_cents=np.array([to_cents(listing.shipping) for _, listing in rows], dtype=np.int64),
            quantity=np.array([int(listing.quantity) for _, listing in rows], dtype=np.int64),
            foreign_currency=np.array([listing.currency.upper() != "USD" for _, listing in rows], dtype=bool),
        )
