"""The approach the original stack planned, as the baseline: load each product's daily history into
pandas, recompute the indicators, write the new day's rows back."""

from __future__ import annotations

import io
from datetime import date

import numpy as np
import pandas as pd
import psycopg

BASE = ["product_id", "day", "history_days", "floor_price", "units_near_floor", "units_listed", "units_sold",
        "volume_usd", "units_added", "market_price"]  # fmt: skip


def recompute_day(url: str, day: date) -> pd.DataFrame:
    with psycopg.connect(url) as conn:
        with conn.cursor() as cur:
            cur.execute(f"SELECT {', '.join(BASE)} FROM product_metrics_daily ORDER BY product_id, day")
            frame = pd.DataFrame(cur.fetchall(), columns=BASE)
        for column in BASE[2:]:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
        out = indicators(frame)
        new = out[out["day"] == day]
        write_back(conn, new)
    return new


def indicators(f: pd.DataFrame) -> pd.DataFrame:
    """Every indicator over every product's whole history, with pandas' grouped rolling and ewm."""
    g = f.groupby("product_id", sort=False)

    def rolling(column: str, n: int, how: str, min_periods: int = 1) -> pd.Series:
        result = getattr(g[column].rolling(n, min_periods=min_periods), how)()
        return result.reset_index(level=0, drop=True)

    def ewm(column: str, span: int) -> pd.Series:
        return g[column].ewm(span=span, adjust=False).mean().reset_index(level=0, drop=True)

    history = f["history_days"]
    out = f[["product_id", "day"]].copy()
    out["volume_ema_7d"] = ewm("volume_usd", 7)
    out["volume_ema_30d"] = ewm("volume_usd", 30)
    out["units_sold_ema_7d"] = ewm("units_sold", 7)
    for name, column, n in (
        ("volume_sma_7d", "volume_usd", 7),
        ("volume_sma_30d", "volume_usd", 30),
        ("units_sold_sma_7d", "units_sold", 7),
        ("units_sold_sma_30d", "units_sold", 30),
        ("units_added_sma_7d", "units_added", 7),
        ("units_added_sma_30d", "units_added", 30),
    ):
        out[name] = rolling(column, n, "mean", min_periods=n)
    out["floor_sma_7d"] = rolling("floor_price", 7, "mean").where(history >= 7)
    for n in (7, 30):
        out[f"volume_{n}d"] = rolling("volume_usd", n, "sum")
        out[f"units_sold_{n}d"] = rolling("units_sold", n, "sum").round().astype("Int64")
        prior = out.groupby("product_id", sort=False)[f"volume_{n}d"].shift(n)
        change = (out[f"volume_{n}d"] - prior) / prior.replace(0, np.nan) * 100
        out[f"volume_change_pct_{n}d"] = change.where(history >= 2 * n)
    for n in (1, 7, 30):
        for key, column in (("floor", "floor_price"), ("market", "market_price")):
            before = g[column].shift(n)
            out[f"{key}_change_pct_{n}d"] = (f[column] - before) / before * 100
    sold = rolling("units_sold", 30, "mean").where(history >= 7)
    added = rolling("units_added", 30, "mean").where(history >= 7)
    out["sold_avg_30d"], out["added_avg_30d"] = sold, added
    burn = sold - added
    d20 = (f["units_near_floor"] / burn).clip(upper=180).where(burn > 0.05, 180.0)
    out["days_to_plus_20pct"] = d20.where((burn > 0) & f["units_near_floor"].notna())
    out["expected_days_to_sell"] = (f["units_near_floor"] / sold).clip(1, 365).where(sold > 0.05)
    out["liquidity_score"] = 100 * (7 * sold / f["units_listed"].fillna(0).clip(lower=1)).clip(upper=1)
    out["absorption_ratio"] = out["units_sold_sma_7d"] / out["units_added_sma_7d"].replace(0, np.nan)
    out["momentum"] = ((out["units_sold_sma_7d"] - sold) / sold.replace(0, np.nan)).clip(-1, 1)
    return out


def write_back(conn: psycopg.Connection, rows: pd.DataFrame) -> None:
    columns = [c for c in rows.columns if c not in ("product_id", "day")]
    buffer = io.StringIO()
    rows.to_csv(buffer, sep="\t", header=False, index=False, na_rep="\\N")
    with conn.cursor() as cur:
        cur.execute(
            f"CREATE TEMP TABLE pandas_rows ON COMMIT DROP AS SELECT product_id, day, {', '.join(columns)}"
            " FROM product_metrics_daily WITH NO DATA"
        )
        with cur.copy(f"COPY pandas_rows (product_id, day, {', '.join(columns)}) FROM STDIN") as copy:
            copy.write(buffer.getvalue())
        assignments = ", ".join(f"{c} = p.{c}" for c in columns)
        cur.execute(
            f"UPDATE product_metrics_daily m SET {assignments} FROM pandas_rows p"
            " WHERE m.product_id = p.product_id AND m.day = p.day"
        )
    conn.commit()
