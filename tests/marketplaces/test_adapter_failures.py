"""Every fetch job ends through one path (jobs/marketplaces/fetch.py `job`): the run is recorded, and
the job raises when anything failed, so RQ retries it. The catalog look-up used to record its failed
look-ups and still report success."""

from __future__ import annotations

import pytest

from jobs.marketplaces import fetch, tcgplayer
from tests.fakes import fixtures
from tests.fakes.marketplaces import Fault

fake_market = fixtures.fake_market
marketplace_env = fixtures.marketplace_env


def test_a_failed_catalog_look_up_fails_the_map_job(db, products, fake_market, marketplace_env):
    db.execute("DELETE FROM product_sources WHERE marketplace = 'tcgplayer' AND product_id <> %s", [products[2]])
    fake_market.faults.append(Fault("/catalog/products", status=500, query={"productName": "OP-01 Box"}, times=20))

    with pytest.raises(fetch.FetchFailed, match=f"product {products[0]}: catalog look-up failed"):
        tcgplayer.map_products()

    run = db.execute("SELECT kind, status, error, rows_written FROM ingest_runs").fetchone()
    assert run["kind"] == "map-tcgplayer-products" and run["status"] == "failed"
    assert run["error"].startswith(f"product {products[0]}: catalog look-up failed: GET ")
    assert f"product {products[1]}" not in run["error"]  # the other look-up went through...
    assert run["rows_written"] == {"product_sources": 1, "image_source_urls": 2}  # ...and its mapping was kept
    mapped = db.execute("SELECT product_id FROM product_sources WHERE marketplace = 'tcgplayer' ORDER BY 1").fetchall()
    assert [m["product_id"] for m in mapped] == [products[1], products[2]]
