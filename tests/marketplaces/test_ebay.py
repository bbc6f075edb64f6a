"""eBay adapter end to end: the fetch jobs against the fake eBay over real HTTP, into the real database."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest

from jobs.marketplaces import ebay, fetch
from tests.fakes import fixtures
from tests.fakes.marketplaces import Fault

fake_market = fixtures.fake_market
marketplace_env = fixtures.marketplace_env


def _book_rows(fake, product_id):
    return sorted(
        (it["legacyItemId"], it["price"]["value"], it["shippingOptions"][0]["shippingCost"]["value"])
        for it in fake.book(product_id)
    )


def _market_price(db, product_id, price):
    db.execute(
        "INSERT INTO price_points (observed_at, product_id, marketplace, market_price)"
        " VALUES (now(), %s, 'tcgplayer', %s)",
        [product_id, price],
    )


def _stored_rows(db, product_id):
    rows = db.execute(
        "SELECT listing_id, unit_price::text AS price, shipping::text AS shipping FROM listing_snapshots"
        " WHERE product_id = %s AND marketplace = 'ebay'",
        [product_id],
    ).fetchall()
    return sorted((r["listing_id"], r["price"], r["shipping"]) for r in rows)


def test_listings_become_one_complete_snapshot_per_product_paged_through(db, products, fake_market, marketplace_env):
    result = ebay.fetch_listings()

    assert result["status"] == "succeeded"
    for pid in products:
        assert _stored_rows(db, pid) == _book_rows(fake_market, pid)
        assert len(_book_rows(fake_market, pid)) > 10  # more than one page of 10
    snaps = db.execute("SELECT product_id, complete FROM snapshots WHERE marketplace = 'ebay'").fetchall()
    assert {s["product_id"] for s in snaps} == set(products) and all(s["complete"] for s in snaps)
    searches = fake_market.calls("/item_summary/search")
    assert {r.query["offset"] for r in searches} >= {"0", "10", "20"}
    assert all(r.headers["X-EBAY-C-MARKETPLACE-ID"] == "EBAY_US" for r in searches)
    assert all(r.query["category_ids"] == "183456" and "FIXED_PRICE" in r.query["filter"] for r in searches)
    run = db.execute("SELECT * FROM ingest_runs WHERE id = %s", [result["run_id"]]).fetchone()
    assert run["status"] == "succeeded" and run["http_calls"] == len(fake_market.requests)
    assert run["rows_written"]["listing_snapshots"] == sum(len(_book_rows(fake_market, p)) for p in products)
    payloads = db.execute("SELECT count(*) AS n FROM raw_payloads WHERE ingest_run_id = %s", [run["id"]]).fetchone()
    assert payloads["n"] == len(fake_market.requests)
    token_payload = db.execute("SELECT body FROM raw_payloads WHERE request LIKE %s", ["%oauth2/token%"]).fetchone()
    assert token_payload["body"]["access_token"] == "<redacted>"


def test_fetching_again_at_the_same_instant_changes_nothing(db, products, fake_market, marketplace_env):
    ebay.fetch_listings()
    before = db.execute("SELECT count(*) AS n FROM listing_snapshots").fetchone()["n"]
    # A direct call pins a new instant each time; two calls in one second share it.
    again = ebay.fetch_listings()
    after = db.execute("SELECT count(*) AS n FROM listing_snapshots").fetchone()["n"]
    assert after in (before, 2 * before)
    if after == before:
        assert again["skipped"]["snapshots"] == len(products)


def test_title_filters_and_lots(db, products, fake_market, marketplace_env):
    pid = products[0]
    fake_market.add_noise(pid, "OP-01 Box Booster Box JAPANESE sealed", 9000, 900001)
    fake_market.add_noise(pid, "OP-01 Box Booster Box Case 12 boxes", 150000, 900002)
    fake_market.add_noise(pid, "OP-01 Box Booster Box EMPTY no packs", 1500, 900003)
    fake_market.add_noise(pid, "OP-01 Box 3 booster packs", 1500, 900004)
    fake_market.add_noise(pid, "OP-01 Box Booster Box live break spot", 2000, 900005)
    fake_market.add_noise(pid, "Lot of 3 OP-01 Box Booster Boxes 24 packs", 45000, 900006)

    result = ebay.fetch_listings([pid])

    assert result["rejected"] == {
        "title_asian_edition": 1,
        "title_case": 1,
        "title_not_sealed": 1,
        "title_packs": 1,
        "title_break": 1,
    }
    lot = db.execute("SELECT unit_price::text, quantity FROM listing_snapshots WHERE listing_id = '900006'").fetchone()
    assert lot == {"unit_price": "150.00", "quantity": 3}
    assert not db.execute("SELECT 1 FROM listing_snapshots WHERE listing_id IN ('900001', '900002')").fetchall()
    run = db.execute("SELECT rows_rejected FROM ingest_runs WHERE id = %s", [result["run_id"]]).fetchone()
    assert run["rows_rejected"]["title_asian_edition"] == 1


def test_price_band_of_the_source_rejects_outliers(db, products, fake_market, marketplace_env):
    pid = products[0]
    db.execute("UPDATE product_sources SET price_min_usd = 100, price_max_usd = 400 WHERE product_id = %s", [pid])
    fake_market.add_noise(pid, "OP-01 Box Booster Box", 2500, 900010)
    result = ebay.fetch_listings([pid])
    assert result["rejected"] == {"outside_price_band": 1}
    search = fake_market.calls("/item_summary/search")[0]
    assert "price:[100.00..400.00]" in search.query["filter"] and "priceCurrency:USD" in search.query["filter"]


@pytest.mark.parametrize(
    "fault",
    [
        Fault("/item_summary/search", status=500, query={"offset": "10"}, times=10),
        Fault("/item_summary/search", status=200, body=b'{"total": 40, "itemSummaries": [{"itemId"', times=10),
        Fault("/item_summary/search", status=200, body={"total": "many", "itemSummaries": 3}, query={"offset": "10"}),
        Fault("/item_summary/search", status=400, body={"errors": [{"errorId": 12002}]}, query={"offset": "20"}),
    ],
    ids=["server-error-every-try", "truncated-json-every-try", "wrong-shape", "client-error"],
)
def test_a_bad_page_fails_the_whole_snapshot_and_the_run_says_why(db, products, fake_market, marketplace_env, fault):
    first = products[0]
    fault.query.setdefault("q", fake_market.products[0].query)
    fake_market.faults.append(fault)

    with pytest.raises(fetch.FetchFailed, match=f"product {first}"):
        ebay.fetch_listings()

    assert not _stored_rows(db, first)  # not one row of the product whose page failed
    (registered,) = db.execute("SELECT complete, listing_count FROM snapshots WHERE product_id = %s", [first])
    assert registered == {"complete": False, "listing_count": 0}  # last attempt: recorded as incomplete
    for pid in products[1:]:  # the other products' snapshots are whole
        assert _stored_rows(db, pid) == _book_rows(fake_market, pid)
    run = db.execute("SELECT * FROM ingest_runs ORDER BY id DESC LIMIT 1").fetchone()
    assert run["status"] == "failed"
    assert f"product {first}: snapshot not taken" in run["error"]
    assert run["rows_rejected"]["incomplete_snapshot"] == 1
    assert run["http_errors"] >= 1


def test_a_retried_job_fetches_only_the_snapshots_still_missing(db, products, fake_market, marketplace_env, redis_db):
    from rq import Queue, Retry, SimpleWorker

    fake_market.faults.append(
        Fault("/item_summary/search", status=503, query={"q": fake_market.products[1].query}, times=4)
    )
    queue = Queue("fetch-test", connection=redis_db)
    job = queue.enqueue("jobs.marketplaces.ebay.fetch_listings", retry=Retry(max=2))
    SimpleWorker([queue], connection=redis_db).work(burst=True)  # fails once, then RQ's Retry runs it again
    job.refresh()
    assert job.is_finished
    runs = db.execute("SELECT id, status FROM ingest_runs ORDER BY id").fetchall()
    assert [r["status"] for r in runs] == ["failed", "succeeded"]
    retried = db.execute(
        "SELECT request FROM raw_payloads WHERE ingest_run_id = %s AND request LIKE '%%item_summary%%'",
        [runs[1]["id"]],
    ).fetchall()
    assert retried and all("q=OP-02+Box" in r["request"] for r in retried)  # only the missing snapshot
    for pid in products:
        assert _stored_rows(db, pid) == _book_rows(fake_market, pid)
    observed = db.execute("SELECT DISTINCT observed_at FROM snapshots WHERE marketplace = 'ebay'").fetchall()
    assert len(observed) == 1  # the retry observed at the pinned instant


def test_empty_results_and_an_exact_last_page(db, products, fake_market, marketplace_env):
    empty, exact = products[0], products[1]
    fake_market.state.books["sim-ebay"].active[fake_market.index[empty]] = False
    book = fake_market.state.books["sim-ebay"]
    row = fake_market.index[exact]
    keep = book.active[row].nonzero()[0][:20]
    book.active[row] = False
    book.active[row, keep] = True
    for extra in range(20 - len(keep)):  # exactly two pages of ten
        fake_market.add_noise(exact, "OP-02 Box Booster Box Sealed", 20000 + extra, 910000 + extra)

    ebay.fetch_listings([empty, exact])

    snaps = {
        r["product_id"]: r
        for r in db.execute("SELECT product_id, complete, listing_count FROM snapshots WHERE marketplace = 'ebay'")
    }
    assert snaps[empty]["listing_count"] == 0 and snaps[empty]["complete"]
    assert snaps[exact]["listing_count"] == 20
    offsets = [r.query["offset"] for r in fake_market.calls("/item_summary/search") if r.query["q"].startswith("OP-02")]
    assert offsets == ["0", "10"]  # no call past the end


def test_sales_from_marketplace_insights_count_only_new_units(db, products, fake_market, marketplace_env):
    fake_market.advance(hours=24)
    first = ebay.fetch_sales()
    expected_units = sum(s["units"] for p in products for s in fake_market.sold[p].values())
    assert expected_units > 0
    units = db.execute("SELECT coalesce(sum(quantity), 0) AS n FROM sales WHERE marketplace = 'ebay'").fetchone()["n"]
    assert units == expected_units and first["written"]["sales"] > 0
    assert db.execute("SELECT DISTINCT basis FROM sales").fetchone()["basis"] == "reported"

    again = ebay.fetch_sales()  # the same report: nothing new
    assert again["written"].get("sales", 0) == 0
    fake_market.advance(hours=24)
    ebay.fetch_sales()
    expected_units = sum(s["units"] for p in products for s in fake_market.sold[p].values())
    units = db.execute("SELECT sum(quantity) AS n FROM sales WHERE marketplace = 'ebay'").fetchone()["n"]
    assert units == expected_units
    calls = fake_market.calls("/item_sales/search")
    assert "lastSoldDate:[" in calls[-1].query["filter"]


def test_listing_changes_are_inferred_after_writing(db, products, fake_market, marketplace_env):
    ebay.fetch_listings()
    fake_market.advance(hours=6)
    import time

    time.sleep(1.05)  # a new instant (snapshots are stamped to the second)
    ebay.fetch_listings()
    pairs = db.execute("SELECT count(*) AS n FROM snapshots WHERE marketplace = 'ebay' AND diffed").fetchone()["n"]
    assert pairs >= len(products)
    events = db.execute("SELECT count(*) AS n FROM listing_events WHERE marketplace = 'ebay'").fetchone()["n"]
    assert events > 0


def test_a_snapshot_is_never_visible_before_its_summary(db, products, fake_market, marketplace_env):
    # The fetch writes one product's snapshot, then pages through the next (held up here). Anyone
    # reading meanwhile -- a pipeline run on another worker -- must see the first snapshot summarised
    # (its floor) and diffed: a run that rolled up a NULL floor would never look at that day again.
    fake_market.faults.append(
        Fault("/item_summary/search", status=200, query={"q": fake_market.products[1].query}, delay_s=2.0)
    )
    fetching = threading.Thread(target=ebay.fetch_listings)
    fetching.start()
    try:
        deadline = time.monotonic() + 10
        first = None
        while first is None and time.monotonic() < deadline:
            first = db.execute(
                "SELECT floor_landed, diffed FROM snapshots WHERE marketplace = 'ebay' AND product_id = %s",
                [products[0]],
            ).fetchone()
            time.sleep(0.01)
        held_up = fetching.is_alive()
    finally:
        fetching.join()
    assert held_up  # read while the second product was still being fetched
    cheapest = min(Decimal(price) + Decimal(shipping) for _, price, shipping in _book_rows(fake_market, products[0]))
    assert first == {"floor_landed": cheapest, "diffed": True}


def test_listings_moving_while_paging_are_neither_duplicated_nor_invented(db, products, fake_market, marketplace_env):
    pid = products[0]
    before = _book_rows(fake_market, pid)

    def undercut(product_id):  # a new cheapest listing shifts every later page by one
        fake_market.add_noise(product_id, "OP-01 Box Booster Box Sealed", 100, 990001)

    fake_market.after_page[0] = undercut
    result = ebay.fetch_listings([pid])
    assert result["status"] == "succeeded"
    stored = _stored_rows(db, pid)
    assert len(stored) == len({r[0] for r in stored})  # the item seen twice is stored once
    assert set(stored) <= set(before) and len(stored) >= len(before) - 1
    assert "990001" not in {r[0] for r in stored}


def test_without_a_band_of_its_own_a_source_is_banded_around_the_tcgplayer_market_price(
    db, products, fake_market, marketplace_env
):
    pid = products[0]
    _market_price(db, pid, 150)
    fake_market.add_noise(pid, "OP-01 Box Booster Box", 2000, 920001)  # $20: a pack or a fake, not this box
    fake_market.add_noise(pid, "OP-01 Box Booster Box", 99900, 920002)  # $999: a case or a typo
    result = ebay.fetch_listings()
    assert result["rejected"] == {"outside_price_band": 2}
    searches = fake_market.calls("/item_summary/search")
    banded = [r for r in searches if r.query["q"] == fake_market.products[0].query]
    assert all("price:[75.00..300.00]" in r.query["filter"] for r in banded)
    assert all("price:" not in r.query["filter"] for r in searches if r not in banded)  # no reference price


def test_the_automatic_band_can_be_turned_off(db, products, fake_market, marketplace_env, monkeypatch):
    monkeypatch.setenv("EBAY_AUTO_PRICE_BAND", "0,0")
    _market_price(db, products[0], 150)
    fake_market.add_noise(products[0], "OP-01 Box Booster Box", 2000, 920001)
    assert ebay.fetch_listings([products[0]])["rejected"] == {}
