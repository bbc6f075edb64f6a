from __future__ import annotations

from datetime import date, timedelta

import psycopg
import pytest

DAY = date(2026, 3, 10)


def put(db, product: int, day: date, floor: float | None, listings: int = 5, market: float | None = None) -> None:
    db.execute(
        """INSERT INTO product_metrics_daily (day, product_id, history_days, floor_price, market_price, active_listings,
                                             units_sold, sales_count, volume_usd, volume_24h, units_added,
                                             insufficient_history, low_liquidity, stale)
           VALUES (%s, %s, 30, %s, %s, %s, 0, 0, 0, 0, 0, false, false, false)""",
        [day, product, floor, market, listings],
    )


def movers(db, metric: str = "floor", days: int = 1) -> list[tuple]:
    rows = db.execute("SELECT * FROM movers(%s, %s, %s)", [DAY, metric, days]).fetchall()
    return [(r["direction"], r["place"], r["product_id"], round(r["change_pct"], 2)) for r in rows]


def test_gainers_and_losers_ignore_noise(db):
    yesterday = DAY - timedelta(days=1)
    cases = {
        1: (100, 120, 5),  # +20 %: a gainer
        2: (100, 90, 5),  # -10 %: a loser
        3: (4, 6, 5),  # earlier floor under $5: noise
        4: (100, 100.5, 5),  # a move under $1: noise
        5: (100, 150, 2),  # fewer than 3 listings today: noise
        6: (None, 150, 5),  # no earlier floor
        7: (200, 260, 5),  # +30 %: the top gainer
    }
    for product, (before, now, listings) in cases.items():
        put(db, product, yesterday, before)
        put(db, product, DAY, now, listings)
    assert movers(db) == [("gainer", 1, 7, 30.0), ("gainer", 2, 1, 20.0), ("loser", 1, 2, -10.0)]


def test_market_price_movers_over_a_week(db):
    put(db, 1, DAY - timedelta(days=7), 50, market=80)
    put(db, 1, DAY, 50, market=100)
    assert movers(db, "market", 7) == [("gainer", 1, 1, 25.0)]
    assert movers(db, "floor", 7) == []


def test_a_deactivated_box_is_no_mover_and_leaves_no_gap(db):
    db.execute("INSERT INTO games (code, name) VALUES ('one-piece', 'One Piece')")
    db.execute(
        """INSERT INTO products (id, slug, game, name, product_type, active)
           VALUES (7, 'gone-box', 'one-piece', 'Gone', 'booster_box', false),
                  (1, 'kept-box', 'one-piece', 'Kept', 'booster_box', true)"""
    )
    for product, before, now in ((1, 100, 120), (7, 200, 260)):
        put(db, product, DAY - timedelta(days=1), before)
        put(db, product, DAY, now)
    assert movers(db) == [("gainer", 1, 1, 20.0)]


@pytest.mark.parametrize(("metric", "days"), [("volume", 1), ("floor", 2)])
def test_bad_arguments_are_refused(db, metric, days):
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="movers"):
        movers(db, metric, days)
