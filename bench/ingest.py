"""Ingest benchmark (SPEC §10): dataset M's listing snapshots through the real ingest path.

Generates 1,000 products x 180 days x 4 snapshots a day with the simulated market (~25 listings per
snapshot) and loads them with service.core.ingest.writer.write_listing_batch, the path every adapter uses:
validation, the snapshot registry, and COPY into the listing_snapshots hypertable. Only the time
spent in the writer counts toward rows/s; generating the market does not.

    make bench-ingest                       # dataset M
    python -m bench.ingest --products 100 --days 10   # a quick look
"""

from __future__ import annotations

import argparse
import queue
import threading
import time
from datetime import UTC, datetime, timedelta

import psycopg

from bench.common import bench_database, describe, new_market, peak_rss_mb, progress, server_settings
from jobs.sim.market import capture, snapshot_batch, step_times
from service.core.ingest import writer

MARKETPLACE = "sim-ebay"  # its books hold ~25 listings, as in dataset M
STEPS_PER_BATCH = 16  # 4 days a batch: 16,000 snapshots, ~400,000 rows for dataset M
BATCHES_PER_PHASE = 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--writers", type=int, default=2, help="concurrent writer connections")
    args = parser.parse_args()

    url = bench_database()
    end = datetime(2026, 6, 1, tzinfo=UTC)
    start = end - timedelta(days=args.days)
    ids, market = new_market(url, args.products, start, seed=1)
    times = step_times(start, end, timedelta(hours=6))
    print(f"database {describe(url)}; server {server_settings(url)}")
    print(f"dataset: {args.products} products x {args.days} days x 4 snapshots = {len(times) * len(ids)} snapshots")

    # Concurrent writers, as several RQ workers would be: each batch is its own transaction on its own
    # connection, so the server parses on both cores. The market is generated in phases between
    # timed write phases, which keeps memory bounded and keeps generation out of the figure.
    batches = [times[i : i + STEPS_PER_BATCH] for i in range(0, len(times), STEPS_PER_BATCH)]
    totals = {"rows": 0, "snapshots": 0, "done": 0}
    lock = threading.Lock()
    connections = [psycopg.connect(url, autocommit=True) for _ in range(args.writers)]
    write_seconds = 0.0

    def write_loop(conn: psycopg.Connection, pending: queue.SimpleQueue, errors: list[BaseException]) -> None:
        while (batch := pending.get()) is not None:
            try:
                result = writer.write_listing_batch(conn, batch, now=end)
            except Exception as exc:  # noqa: BLE001 - handed to the main thread
                errors.append(exc)
                return
            with lock:
                totals["rows"] += result.written["listing_snapshots"]
                totals["snapshots"] += result.written["snapshots"]
                totals["done"] += 1
                progress(totals["done"], len(batches), "ingest")

    for phase_start in range(0, len(batches), BATCHES_PER_PHASE):
        generated = []
        for chunk in batches[phase_start : phase_start + BATCHES_PER_PHASE]:
            captures = []
            for t in chunk:
                market.step(t)
                captures.append(capture(market, MARKETPLACE))
            generated.append(snapshot_batch(market, MARKETPLACE, chunk, captures))
        pending: queue.SimpleQueue = queue.SimpleQueue()
        for batch in generated:
            pending.put(batch)
        errors: list[BaseException] = []
        threads = [threading.Thread(target=write_loop, args=(conn, pending, errors)) for conn in connections]
        for _ in threads:
            pending.put(None)
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        write_seconds += time.perf_counter() - started
        if errors:
            raise errors[0]
        del generated
    for conn in connections:
        conn.close()
    rows, snapshots = totals["rows"], totals["snapshots"]
    rate = rows / write_seconds
    print(f"wrote {rows} listing rows in {snapshots} snapshots in {write_seconds:.1f} s ({args.writers} writers)")
    print(f"mean listings per snapshot: {rows / snapshots:.1f}")
    print(f"RESULT ingest rows_per_s={rate:.0f} peak_rss_mb={peak_rss_mb():.0f} rows={rows}")


if __name__ == "__main__":
    main()
