"""An independent reference for docs/METRICS.md (daily metrics, ranks, the market index), in plain
Python, written from the definitions and not from the SQL.

It recomputes every daily metric, rank and market-index value from the raw rows (listing rows,
snapshot registry, sales, price points, listing events), so the tests can hold the database's
answers against it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")


def cents(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENT, rounding=ROUND_HALF_UP)


def median(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    ordered = sorted(values)
    n = len(ordered)
    return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2


def day_end(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)


@dataclass
class Raw:
    settings: dict[str, Decimal]
    products: dict[int, dict[str, Any]]
    market_price_sources: set[str]
    snapshots: list[dict[str, Any]]
    rows: dict[tuple[int, str, datetime], list[dict[str, Any]]] = field(default_factory=dict)
    sales: list[dict[str, Any]] = field(default_factory=list)
    price_points: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def load_raw(conn: Any) -> Raw:
    raw = Raw(
        settings={r["key"]: r["value"] for r in conn.execute("SELECT key, value FROM settings")},
        products={r["id"]: r for r in conn.execute("SELECT id, game, reprint_risk, active FROM products")},
        market_price_sources={
            r["code"] for r in conn.execute("SELECT code FROM marketplaces WHERE market_price_source")
        },
        snapshots=conn.execute("SELECT product_id, marketplace, observed_at, complete FROM snapshots").fetchall(),
    )
    for row in conn.execute("SELECT * FROM listing_snapshots"):
        raw.rows.setdefault((row["product_id"], row["marketplace"], row["observed_at"]), []).append(row)
    raw.sales = conn.execute("SELECT product_id, marketplace, sold_at, unit_price, quantity FROM sales").fetchall()
    raw.price_points = conn.execute(
        "SELECT product_id, marketplace, observed_at, market_price FROM price_points"
    ).fetchall()
    raw.events = conn.execute("SELECT * FROM listing_events").fetchall()
    return raw


def supply_added(raw: Raw) -> dict[tuple[int, date], int]:
    """SPEC §3: per snapshot pair and seller, new - relisted + up; counted on the later snapshot's day."""
    per_seller: dict[tuple[int, str, datetime, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    complete = {(s["product_id"], s["marketplace"], s["observed_at"]) for s in raw.snapshots if s["complete"]}
    for e in raw.events:
        if (e["product_id"], e["marketplace"], e["observed_at"]) not in complete:
            continue
        flows = per_seller[(e["product_id"], e["marketplace"], e["observed_at"], e["seller_id"])]
        if e["event"] == "DELISTED":
            flows["gone"] += e["prev_quantity"]
        elif e["event"] == "LISTED":
            flows["new"] += e["quantity"]
        elif e["event"] == "QTY_UP":
            flows["up"] += e["quantity"] - e["prev_quantity"]
    added: dict[tuple[int, date], int] = defaultdict(int)
    for (product, _, t1, _), f in per_seller.items():
        added[(product, t1.date())] += f["new"] - min(f["gone"], f["new"]) + f["up"]
    return added


def daily_metrics(raw: Raw, last_day: date) -> dict[tuple[int, date], dict[str, Any]]:
    carry = int(raw.settings["max_carry_days"])
    band = raw.settings["near_floor_band"]
    a7, a30 = 2 / (float(raw.settings["ema_short_days"]) + 1), 2 / (float(raw.settings["ema_long_days"]) + 1)
    cap = float(raw.settings["days_to_plus_20pct_cap"])

    # Complete snapshots per product, marketplace and day, in time order.
    snaps: dict[tuple[int, str, date], list[datetime]] = defaultdict(list)
    for s in raw.snapshots:
        if s["complete"]:
            snaps[(s["product_id"], s["marketplace"], s["observed_at"].date())].append(s["observed_at"])
    for times in snaps.values():
        times.sort()
    marketplaces: dict[int, set[str]] = defaultdict(set)
    for product, market, _ in snaps:
        marketplaces[product].add(market)

    def book(product: int, market: str, t: datetime) -> list[dict[str, Any]]:
        return raw.rows.get((product, market, t), [])

    def floor_of(rows: list[dict[str, Any]]) -> Decimal | None:
        return min((r["unit_price"] + r["shipping"] for r in rows), default=None)

    sales_by_day: dict[tuple[int, date], list[dict[str, Any]]] = defaultdict(list)
    for sale in raw.sales:
        sales_by_day[(sale["product_id"], sale["sold_at"].date())].append(sale)
    market_points: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for p in raw.price_points:
        if p["marketplace"] in raw.market_price_sources and p["market_price"] is not None:
            market_points[p["product_id"]].append(p)
    added = supply_added(raw)

    first_days: dict[int, date] = {}
    for product, _, day in snaps:
        first_days[product] = min(day, first_days.get(product, day))
    for sale in raw.sales:
        first_days[sale["product_id"]] = min(sale["sold_at"].date(), first_days.get(sale["product_id"], date.max))
    for p in raw.price_points:
        first_days[p["product_id"]] = min(p["observed_at"].date(), first_days.get(p["product_id"], date.max))

    # volume_24h: the data's clock is the end of the hour of the latest complete snapshot or sale up to
    # the end of last_day; a day that ends after it counts the 24 hours before it, every other day itself.
    seen = [s["observed_at"] for s in raw.snapshots if s["complete"]] + [s["sold_at"] for s in raw.sales]
    latest = max((t for t in seen if t < day_end(last_day)), default=None)
    clock = latest.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1) if latest else None
    last_24h: dict[int, Decimal] = defaultdict(Decimal)
    for sale in raw.sales:
        if clock and clock - timedelta(hours=24) <= sale["sold_at"] < clock:
            last_24h[sale["product_id"]] += sale["unit_price"] * sale["quantity"]

    result: dict[tuple[int, date], dict[str, Any]] = {}
    for product, first in first_days.items():
        days = [first + timedelta(days=i) for i in range((last_day - first).days + 1)]
        series: list[dict[str, Any]] = []
        for d in days:
            levels = []  # (market, close snapshot time) per marketplace with a snapshot in [d - carry, d]
            lows = []
            for market in marketplaces[product]:
                for back in range(carry + 1):
                    times = snaps.get((product, market, d - timedelta(days=back)))
                    if times:
                        levels.append((market, times[-1]))
                        break
                for t in snaps.get((product, market, d), []):
                    floor = floor_of(book(product, market, t))
                    if floor is not None:
                        lows.append(floor)
            m: dict[str, Any] = {"day": d, "history_days": (d - first).days + 1}
            if levels:
                floors = [f for f in (floor_of(book(product, mk, t)) for mk, t in levels) if f is not None]
                m["floor_price"] = min(floors) if floors else None
                all_rows = [r for mk, t in levels for r in book(product, mk, t)]
                m["active_listings"] = len(all_rows)
                m["units_listed"] = sum(r["quantity"] for r in all_rows)
                m["visible_market_cap"] = sum((r["unit_price"] * r["quantity"] for r in all_rows), Decimal(0))
                m["units_near_floor"] = (
                    sum(
                        r["quantity"]
                        for r in all_rows
                        if r["unit_price"] + r["shipping"] <= (1 + band) * m["floor_price"]
                    )
                    if m["floor_price"] is not None
                    else 0
                )
                last_seen = max(t for _, t in levels)
            else:
                m.update(
                    floor_price=None,
                    active_listings=None,
                    units_listed=None,
                    visible_market_cap=None,
                    units_near_floor=None,
                )
                last_seen = None
            m["floor_low"] = min(lows) if lows else None
            m["stale"] = last_seen is None or last_seen < day_end(d) - timedelta(hours=48)
            day_sales = sales_by_day.get((product, d), [])
            m["units_sold"] = sum(s["quantity"] for s in day_sales)
            m["sales_count"] = len(day_sales)
            m["volume_usd"] = sum((s["unit_price"] * s["quantity"] for s in day_sales), Decimal(0))
            m["volume_24h"] = last_24h[product] if clock and day_end(d) > clock else m["volume_usd"]
            m["avg_sale_price"] = cents(m["volume_usd"] / m["units_sold"]) if m["units_sold"] else None
            m["median_sale_price"] = cents(median([s["unit_price"] for s in day_sales]))
            m["units_added"] = added.get((product, d), 0)
            window_points = [
                p for p in market_points[product] if d - timedelta(days=carry) <= p["observed_at"].date() <= d
            ]
            if window_points:
                m["market_price"] = max(window_points, key=lambda p: p["observed_at"])["market_price"]
            else:
                week = [
                    s["unit_price"]
                    for back in range(7)
                    for s in sales_by_day.get((product, d - timedelta(days=back)), [])
                ]
                m["market_price"] = cents(median(week))
            series.append(m)
        add_indicators(series, a7, a30, cap)
        for m in series:
            result[(product, m["day"])] = m
    return result


def add_indicators(series: list[dict[str, Any]], a7: float, a30: float, cap: float) -> None:
    def f(v: Any) -> float | None:
        return None if v is None else float(v)

    def window(i: int, n: int, key: str) -> list[Any]:
        return [series[j][key] for j in range(max(0, i - n + 1), i + 1)]

    def mean(values: list[Any]) -> float | None:
        present = [float(v) for v in values if v is not None]
        return sum(present) / len(present) if present else None

    def change(i: int, n: int, key: str) -> float | None:
        if i - n < 0 or series[i][key] is None or series[i - n][key] in (None, 0):
            return None
        return (float(series[i][key]) - float(series[i - n][key])) / float(series[i - n][key]) * 100

    ema = {"volume_ema_7d": None, "volume_ema_30d": None, "units_sold_ema_7d": None}
    for i, m in enumerate(series):
        h = m["history_days"]
        for key, source, alpha in (
            ("volume_ema_7d", "volume_usd", a7),
            ("volume_ema_30d", "volume_usd", a30),
            ("units_sold_ema_7d", "units_sold", a7),
        ):
            x = float(m[source])
            ema[key] = x if ema[key] is None else alpha * x + (1 - alpha) * ema[key]
            m[key] = ema[key]
        m["volume_sma_7d"] = mean(window(i, 7, "volume_usd")) if h >= 7 else None
        m["volume_sma_30d"] = mean(window(i, 30, "volume_usd")) if h >= 30 else None
        m["units_sold_sma_7d"] = mean(window(i, 7, "units_sold")) if h >= 7 else None
        m["units_sold_sma_30d"] = mean(window(i, 30, "units_sold")) if h >= 30 else None
        m["units_added_sma_7d"] = mean(window(i, 7, "units_added")) if h >= 7 else None
        m["units_added_sma_30d"] = mean(window(i, 30, "units_added")) if h >= 30 else None
        m["floor_sma_7d"] = mean(window(i, 7, "floor_price")) if h >= 7 else None
        m["volume_7d"] = sum(window(i, 7, "volume_usd"))
        m["volume_30d"] = sum(window(i, 30, "volume_usd"))
        m["units_sold_7d"] = sum(window(i, 7, "units_sold"))
        m["units_sold_30d"] = sum(window(i, 30, "units_sold"))
        for n in (1, 7, 30):
            m[f"floor_change_pct_{n}d"] = change(i, n, "floor_price")
            m[f"market_change_pct_{n}d"] = change(i, n, "market_price")
        for n in (7, 30):
            recent = sum(window(i, n, "volume_usd"))
            earlier = sum(series[j]["volume_usd"] for j in range(max(0, i - 2 * n + 1), max(0, i - n + 1)))
            m[f"volume_change_pct_{n}d"] = (
                float((recent - earlier) / earlier * 100) if h >= 2 * n and earlier != 0 else None
            )
        m["sold_avg_30d"] = mean(window(i, 30, "units_sold")) if h >= 7 else None
        m["added_avg_30d"] = mean(window(i, 30, "units_added")) if h >= 7 else None
        sold, added, near = m["sold_avg_30d"], m["added_avg_30d"], m["units_near_floor"]
        burn = None if sold is None or added is None else sold - added
        if near is None or burn is None or burn <= 0:
            m["days_to_plus_20pct"] = None
        elif burn <= 0.05:
            m["days_to_plus_20pct"] = cap
        else:
            m["days_to_plus_20pct"] = min(cap, near / burn)
        m["expected_days_to_sell"] = (
            min(365.0, max(1.0, near / sold)) if sold is not None and sold > 0.05 and near is not None else None
        )
        m["liquidity_score"] = 100 * min(1.0, 7 * sold / max(m["units_listed"] or 0, 1)) if sold is not None else None
        sma7, added7 = m["units_sold_sma_7d"], m["units_added_sma_7d"]
        m["absorption_ratio"] = sma7 / added7 if sma7 is not None and added7 else None
        m["momentum"] = max(-1.0, min(1.0, (sma7 - sold) / sold)) if sold and sma7 is not None else None
        m["insufficient_history"] = h < 7
        m["low_liquidity"] = (m["active_listings"] or 0) < 3


RISK_ORDER = {"LOW": 0, "UNCONFIRMED": 1, "ELEVATED": 2}


def ranks(raw: Raw, metrics: dict[tuple[int, date], dict[str, Any]]) -> dict[tuple[str, int, date], int]:
    """Competition ranks per day and scope ('all' and each game) with SPEC §5's tie-breaks, among the
    active products (the ones the leaderboard shows)."""

    def key(product: int, m: dict[str, Any]) -> tuple:
        def desc(v: float | None) -> tuple:
            return (1, 0.0) if v is None else (0, -v)

        def asc(v: float | None) -> tuple:
            return (1, 0.0) if v is None else (0, v)

        return (
            desc(m["volume_ema_7d"]),
            desc(m["sold_avg_30d"]),
            asc(m["days_to_plus_20pct"]),
            RISK_ORDER.get(raw.products[product]["reprint_risk"], 3),
        )

    groups: dict[tuple[str, date], list[tuple[tuple, int]]] = defaultdict(list)
    for (product, day), m in metrics.items():
        if not raw.products[product]["active"]:
            continue
        for scope in ("all", raw.products[product]["game"]):
            groups[(scope, day)].append((key(product, m), product))
    result = {}
    for (scope, day), members in groups.items():
        members.sort()
        for position, (k, product) in enumerate(members):
            rank = position + 1
            if position and members[position - 1][0] == k:
                rank = result[(scope, members[position - 1][1], day)]
            result[(scope, product, day)] = rank
    return result


def market_index(raw: Raw, metrics: dict[tuple[int, date], dict[str, Any]]) -> dict[tuple[str, date], dict[str, Any]]:
    scopes: dict[str, dict[date, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for (product, day), m in metrics.items():
        for scope in ("all", raw.products[product]["game"]):
            scopes[scope][day].append({**m, "product_id": product})
    result = {}
    a7 = 2 / (float(raw.settings["ema_short_days"]) + 1)
    for scope, by_day in scopes.items():
        index, ema = 1000.0, None
        previous: dict[int, Decimal] = {}
        history: list[dict[str, Any]] = []
        for day in sorted(by_day):
            members = by_day[day]
            ratios = [
                float(m["floor_price"] / previous[m["product_id"]])
                for m in members
                if m["floor_price"] is not None and previous.get(m["product_id"]) is not None
            ]
            if history and ratios:
                index *= sum(ratios) / len(ratios)
            previous = {m["product_id"]: m["floor_price"] for m in members}
            priced = [m["floor_price"] for m in members if m["floor_price"] is not None]
            volume = sum((m["volume_usd"] for m in members), Decimal(0))
            ema = float(volume) if ema is None else a7 * float(volume) + (1 - a7) * ema
            changes = [m["floor_change_pct_1d"] for m in members if m["floor_change_pct_1d"] is not None]
            row = {
                "day": day,
                "products_priced": len(priced),
                "basket_value_usd": sum(priced) if priced else None,
                "index_value": index,
                "advancers": sum(c > 0 for c in changes),
                "decliners": sum(c < 0 for c in changes),
                "unchanged": sum(c == 0 for c in changes),
                "volume_usd": volume,
                "units_sold": sum(m["units_sold"] for m in members),
                "units_added": sum(m["units_added"] for m in members),
                "volume_ema_7d": ema,
            }
            history.append(row)
            for n in (1, 7, 30):
                row[f"index_change_pct_{n}d"] = (
                    (index / history[-1 - n]["index_value"] - 1) * 100 if len(history) > n else None
                )
            if len(history) >= 14:
                recent = sum(r["volume_usd"] for r in history[-7:])
                earlier = sum(r["volume_usd"] for r in history[-14:-7])
                row["volume_change_pct_7d"] = float((recent - earlier) / earlier * 100) if earlier else None
            else:
                row["volume_change_pct_7d"] = None
            c7, v7 = row["index_change_pct_7d"], row["volume_change_pct_7d"]
            row["sentiment"] = (
                "BULLISH"
                if c7 is not None and v7 is not None and c7 > 2 and v7 > 0
                else "BEARISH"
                if c7 is not None and v7 is not None and c7 < -2 and v7 < 0
                else "NEUTRAL"
            )
            result[(scope, day)] = row
    return result


def close(a: Any, b: Any, rel: float = 1e-6, abs_: float = 1e-9) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool | str | date) or isinstance(b, bool | str | date):
        return a == b
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_)


# -- Fantasy leagues (docs/METRICS.md, "Fantasy leagues") -----------------------------------------

POSITION_POINTS = [25, 18, 15, 12, 10, 8, 6, 4, 2, 1]
LEAGUE_PRESETS = {
    "balanced": (Decimal(1), Decimal(1)),
    "momentum": (Decimal(2), Decimal("0.5")),
    "volume": (Decimal("0.5"), Decimal(2)),
}
FREE_TRANSFERS, TRANSFER_COST = 2, 4


def league_product_points(
    metrics: dict[tuple[int, date], dict[str, Any]], active: set[int], lock_day: date
) -> dict[tuple[str, int], dict[str, Any]]:
    """Every active product's points in the round locking on `lock_day`, per preset, from the stored
    daily metrics (`metrics[(product, day)]`, as daily_metrics() returns them)."""
    week = [lock_day + timedelta(days=i) for i in range(7)]
    price_day, last_day = lock_day - timedelta(days=1), week[-1]
    volume = {p: sum((metrics[(p, d)]["volume_usd"] for d in week if (p, d) in metrics), Decimal(0)) for p in active}
    result = {}
    for p in active:
        # competition ranking: one more than the number of products that sold more
        rank = 1 + sum(v > volume[p] for v in volume.values())
        pos = POSITION_POINTS[rank - 1] if volume[p] > 0 and rank <= len(POSITION_POINTS) else 0
        before = metrics.get((p, price_day), {}).get("floor_price")
        after = metrics.get((p, last_day), {}).get("floor_price")
        pct = (after - before) / before * 100 if before and after is not None else None
        for preset, (w_price, w_volume) in LEAGUE_PRESETS.items():
            points = Decimal(0) if pct is None else cents(w_price * pct + w_volume * pos)
            result[(preset, p)] = {
                "volume_usd": volume[p],
                "pct": pct,
                "pos": pos,
                "points": points,
                "insufficient_data": pct is None,
            }
    return result


def league_results(
    rosters: list[dict[str, Any]], points: dict[tuple[date, str, int], dict[str, Any]]
) -> dict[tuple[int, int, int], dict[str, Any]]:
    """Each roster's score. A roster: league_id, round_no, member_id, lock_day, preset, product_ids,
    captain_id, wildcard. `points[(lock_day, preset, product)]`: league_product_points' rows."""
    history: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in rosters:
        history[r["member_id"]].append(r)
    result = {}
    for r in rosters:
        earlier = [e for e in history[r["member_id"]] if e["round_no"] < r["round_no"]]
        last_locked = max(earlier, key=lambda e: e["round_no"]) if earlier else None
        transfers = len(set(r["product_ids"]) - set(last_locked["product_ids"])) if last_locked else 0
        penalty = 0 if r["wildcard"] else TRANSFER_COST * max(0, transfers - FREE_TRANSFERS)
        total, flagged = Decimal(0), 0
        for p in r["product_ids"]:
            row = points.get((r["lock_day"], r["preset"], p))
            flagged += row is None or row["insufficient_data"]
            value = row["points"] if row else Decimal(0)
            total += 2 * value if p == r["captain_id"] else value
        result[(r["league_id"], r["round_no"], r["member_id"])] = {
            "product_points": total,
            "transfers": transfers,
            "penalty": Decimal(penalty),
            "points": total - penalty,
            "insufficient_products": flagged,
        }
    return result
