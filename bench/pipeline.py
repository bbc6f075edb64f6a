"""Pipeline benchmark (SPEC §10) on dataset M: 1,000 products x 180 days x 4 snapshots of ~25 listings,
plus sales and daily price points, loaded through the ingest path (not timed), then:

- backfill: the whole pipeline (rollups, metrics, ranks, index) over the 180 days;
- day: one new day of data, then the pipeline for that day alone;
- vs pandas: the new day's metrics in the database vs the pandas approach (load every product's
  history, recompute the indicators, write the day back), over the same rows in the same run.

    make bench-pipeline
    python -m bench.pipeline --products 100 --days 30     # a quick look
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg

from bench import market as bench_market
from bench import pandas_baseline
from bench.common import bench_database, describe, new_market, server_settings
from jobs import pipeline

REPEATS = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--days", type=int, default=180)
    args = parser.parse_args()

    url = bench_database()
    new_day = datetime(2026, 6, 1, tzinfo=UTC)
    start = new_day - timedelta(days=args.days)
    ids, market = new_market(url, args.products, start, seed=2)
    print(f"database {describe(url)}; server {server_settings(url)}")

    started = time.perf_counter()
    bench_market.load(url, market, new_day - timedelta(seconds=1), label="history")
    bench_market.infer(url, ids)
    with psycopg.connect(url) as conn:
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM listing_snapshots), (SELECT count(*) FROM snapshots),"
            " (SELECT count(*) FROM sales), (SELECT count(*) FROM price_points)"
        ).fetchone()
    assert counts is not None
    print(
        f"dataset: {counts[0]} listing rows, {counts[1]} snapshots, {counts[2]} sales, {counts[3]} price points"
        f" (generated and ingested in {time.perf_counter() - started:.0f} s, not timed)"
    )

    first, last = start.date(), (new_day - timedelta(days=1)).date()
    backfill = pipeline.run(url, first, last)
    backfill_s = sum(backfill.seconds.values())
    print(f"backfill {first}..{last}: {backfill_s:.2f} s  {backfill.seconds}")

    bench_market.load(url, market, new_day + timedelta(hours=18), label="new day")
    bench_market.infer(url, ids)
    day = pipeline.run(url, new_day.date(), new_day.date())
    day_s = sum(day.seconds.values())
    print(f"new day {new_day.date()}: {day_s:.3f} s  {day.seconds}")

    # The same new day's metrics, both ways, several times each; the medians are compared.
    db_times, pandas_times = [], []
    for _ in range(REPEATS):
        with psycopg.connect(url) as conn:
            started = time.perf_counter()
            conn.execute("SELECT compute_product_metrics(%s, %s)", [new_day.date(), new_day.date()])
            conn.commit()
            db_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        rows = pandas_baseline.recompute_day(url, new_day.date())
        pandas_times.append(time.perf_counter() - started)
    with psycopg.connect(url) as conn:
        in_db: dict[int, float] = dict(
            conn.execute(
                "SELECT product_id, volume_ema_7d FROM product_metrics_daily WHERE day = %s", [new_day.date()]
            ).fetchall()
        )
    agree = all(
        np.isclose(in_db[p], v, rtol=1e-6) for p, v in zip(rows["product_id"], rows["volume_ema_7d"], strict=True)
    )
    db_s, pandas_s = statistics.median(db_times), statistics.median(pandas_times)
    print(
        f"new day's metrics, median of {REPEATS}: database {db_s:.3f} s {[round(t, 3) for t in db_times]},"
        f" pandas {pandas_s:.3f} s {[round(t, 3) for t in pandas_times]} ({len(rows)} rows; EMAs agree: {agree})"
    )
    print(f"RESULT pipeline day_s={day_s:.3f} backfill_s={backfill_s:.2f} vs_pandas_ratio={pandas_s / db_s:.1f}")


if __name__ == "__main__":
    main()
