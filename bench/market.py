"""Loads a simulated market into a benchmark database through the real ingest path (not timed)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import numpy as np
import psycopg

from bench.common import progress
from jobs.sim.market import MarketState, capture, snapshot_batch, step_times
from service.core.ingest import writer
from service.core.ingest.records import PricePoint, Sale

LISTINGS = "sim-ebay"  # ~25 listings a snapshot, and reported sales
PRICES = "sim-tcgplayer"  # daily price points
STEPS_PER_BATCH = 16


def load(
    url: str, market: MarketState, end: datetime, step: timedelta = timedelta(hours=6), label: str = "load"
) -> None:
    times = step_times(market.time, end, step)
    batches = [times[i : i + STEPS_PER_BATCH] for i in range(0, len(times), STEPS_PER_BATCH)]
    with psycopg.connect(url, autocommit=True) as conn:
        for done, chunk in enumerate(batches, start=1):
            captures = []
            sales: list[Sale] = []
            points: list[PricePoint] = []
            for t in chunk:
                result = market.step(t)
                captures.append(capture(market, LISTINGS))
                trades = result.trades[LISTINGS]
                sales.extend(
                    Sale(
                        int(market.product_ids[p]), t, f"E{lid}-{int(t.timestamp())}", f"{price / 100:.2f}", int(units)
                    )
                    for p, lid, price, units in zip(
                        trades.product, trades.listing_id, trades.price, trades.units, strict=True
                    )
                )
                if result.price_points is not None:
                    pp = result.price_points
                    day = t.replace(hour=0, minute=0)
                    points.extend(
                        PricePoint(int(market.product_ids[i]), day, market_price=f"{pp.market[i]:.2f}")
                        for i in range(market.products)
                    )
            writer.write_listing_batch(conn, snapshot_batch(market, LISTINGS, chunk, captures), now=end)
            writer.write_sales(conn, LISTINGS, sales, now=end)
            writer.write_price_points(conn, PRICES, points, now=end)
            progress(done, len(batches), label)


def infer(url: str, product_ids: np.ndarray, workers: int = 2) -> None:
    """Listing-change inference (and snapshot summaries), in parallel over disjoint products."""
    parts = np.array_split(product_ids, workers)

    def work(ids: np.ndarray) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SELECT * FROM infer_listing_changes(%s, %s)", [LISTINGS, ids.tolist()])

    threads = [threading.Thread(target=work, args=(part,)) for part in parts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
