"""The shared HTTP layer against injected faults: retries back off and honour Retry-After, timeouts and
broken bodies are retried, an expired token is renewed once, a spent eBay quota opens the circuit and
defers the work, adapters without credentials are skipped."""

from __future__ import annotations

import itertools
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest
from rq import Queue
from rq.registry import ScheduledJobRegistry

from jobs.marketplaces import ebay, fetch, tcgplayer
from jobs.marketplaces.ratelimit import TokenBucket
from jobs.marketplaces.tokens import TokenCache
from service.core import circuits as circuit
from service.core.circuits import QuotaCircuit, next_daily_reset
from tests.fakes import fixtures
from tests.fakes.marketplaces import Fault, ebay_error, quota_spent

fake_market = fixtures.fake_market
marketplace_env = fixtures.marketplace_env
PRICING = "/pricing/product/"


def _prices(db):
    return db.execute("SELECT count(*) AS n FROM price_points WHERE marketplace = 'tcgplayer'").fetchone()["n"]


def _gaps(calls):
    return [b.at - a.at for a, b in itertools.pairwise(calls)]


def test_prices_are_fetched_with_a_cached_bearer_token(db, products, fake_market, marketplace_env, redis_db):
    result = tcgplayer.fetch_prices()
    assert result["written"]["price_points"] == 3 and _prices(db) == 3
    call = fake_market.calls(PRICING)[0]
    assert call.path.endswith("/pricing/product/450001,450002,450003")
    assert call.headers["Authorization"] == "bearer tcgplayer-token-1"
    tcgplayer.fetch_prices()
    assert fake_market.minted["tcgplayer"] == 1  # the token is reused from Redis, not minted per run
    assert redis_db.exists("boxpro:marketplace:token:tcgplayer")


def test_429_with_retry_after_is_honoured(db, products, fake_market, marketplace_env):
    fake_market.faults.append(Fault(PRICING, status=429, headers={"Retry-After": "1"}, body={"errors": ["slow down"]}))
    result = tcgplayer.fetch_prices()
    calls = fake_market.calls(PRICING)
    assert len(calls) == 2 and calls[0].status == 429 and calls[1].status == 200
    assert _gaps(calls)[0] >= 1.0  # waited what the server asked, not the 0.05 s backoff
    assert result["status"] == "succeeded" and _prices(db) == 3
    run = db.execute("SELECT http_calls, http_errors, error FROM ingest_runs").fetchone()
    assert run == {"http_calls": 3, "http_errors": 1, "error": None}  # token + 2 pricing calls


def test_server_errors_are_retried_with_growing_backoff(db, products, fake_market, marketplace_env, redis_db):
    fake_market.faults.append(Fault(PRICING, status=503, times=2))
    fake_market.faults.append(Fault(PRICING, status=500, times=1))
    tcgplayer.fetch_prices()
    calls = fake_market.calls(PRICING)
    assert [c.status for c in calls] == [503, 503, 500, 200]
    gaps = _gaps(calls)
    # base 0.05 s: attempt n waits within [0.05 * 2**n / 2, 0.05 * 2**n], so the waits grow
    for n, gap in enumerate(gaps):
        assert gap >= 0.05 * 2**n / 2
    assert circuit.stats(redis_db, "tcgplayer")["retries"] == 3
    assert _prices(db) == 3


def test_giving_up_after_the_last_attempt_fails_the_run(db, products, fake_market, marketplace_env):
    fake_market.faults.append(Fault(PRICING, status=500, times=100))
    with pytest.raises(fetch.FetchFailed, match="HTTP 500 \\(gave up after 4 attempts\\)"):
        tcgplayer.fetch_prices()
    assert len(fake_market.calls(PRICING)) == 4
    run = db.execute("SELECT status, http_errors, error FROM ingest_runs").fetchone()
    assert run["status"] == "failed" and run["http_errors"] == 4 and "prices not fetched" in run["error"]
    assert _prices(db) == 0


def test_a_response_slower_than_the_timeout_is_retried(db, products, fake_market, marketplace_env):
    fake_market.faults.append(Fault(PRICING, status=200, delay_s=1.5))  # read timeout is 0.5 s
    started = time.monotonic()
    tcgplayer.fetch_prices()
    assert time.monotonic() - started < 1.4  # did not wait for the slow answer
    assert len(fake_market.calls(PRICING)) == 2 and _prices(db) == 3
    stored = db.execute("SELECT status, body FROM raw_payloads WHERE request LIKE '%%pricing%%' ORDER BY fetched_at")
    first = stored.fetchone()
    assert first["status"] is None and first["body"]["error"] in {"ReadTimeout", "ConnectionError"}


@pytest.mark.parametrize(
    "fault",
    [
        Fault(PRICING, status=200, body=b"<html><body>Service Unavailable</body></html>"),
        Fault(PRICING, status=200, body=b'{"success": true, "errors": [], "results": [{"productId": 45'),
        Fault(PRICING, cut_connection=True),
    ],
    ids=["malformed", "truncated", "connection-cut-mid-body"],
)
def test_broken_bodies_are_kept_and_retried(db, products, fake_market, marketplace_env, fault):
    fake_market.faults.append(fault)
    tcgplayer.fetch_prices()
    assert len(fake_market.calls(PRICING)) == 2 and _prices(db) == 3
    bodies = db.execute("SELECT body FROM raw_payloads WHERE request LIKE '%%pricing%%' ORDER BY fetched_at").fetchall()
    assert len(bodies) == 2 and ("raw" in bodies[0]["body"] or "error" in bodies[0]["body"])


def test_an_expired_token_is_renewed_once_and_the_call_repeated(db, products, fake_market, marketplace_env):
    tcgplayer.fetch_prices()
    fake_market.expire_tokens()  # the cached token is still in Redis, but the marketplace refuses it
    result = tcgplayer.fetch_prices()
    assert result["status"] == "succeeded"
    assert fake_market.minted["tcgplayer"] == 2
    assert [c.status for c in fake_market.calls(PRICING)] == [200, 401, 200]


def test_a_token_refused_twice_fails_without_a_loop(db, products, fake_market, marketplace_env):
    fake_market.faults.append(Fault(PRICING, status=401, body={"success": False, "errors": ["Unauthorized"]}, times=9))
    with pytest.raises(fetch.FetchFailed, match="HTTP 401"):
        tcgplayer.fetch_prices()
    assert len(fake_market.calls(PRICING)) == 2 and fake_market.minted["tcgplayer"] == 2


def test_ebay_expired_token_is_renewed_once(db, products, fake_market, marketplace_env):
    ebay.fetch_listings([products[0]])
    fake_market.expire_tokens()
    time.sleep(1.01)  # another instant
    ebay.fetch_listings([products[0]])
    assert fake_market.minted["ebay"] == 2
    assert [c.status for c in fake_market.calls("/item_summary/search")].count(401) == 1


@pytest.mark.clock
def test_spent_ebay_quota_opens_the_circuit_and_defers_the_work(db, products, fake_market, marketplace_env, redis_db):
    reset = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    fake_market.quota["buy.browse"] = (0, reset)  # what eBay's rate-limit report says after the refusal
    fake_market.faults.append(
        Fault("/item_summary/search", status=429, body=ebay_error(2001, "Too many requests."), times=1000)
    )
    fake_market.faults[-1].query["q"] = fake_market.products[1].query  # the first product goes through
    result = ebay.fetch_listings()

    assert result["status"] == "deferred"
    assert result["deferred_until"] == reset.isoformat()
    assert len([c for c in fake_market.calls("/item_summary/search") if c.status == 429]) == 1  # no retry loop
    assert len(fake_market.calls("/rate_limit/")) == 1
    state = QuotaCircuit(redis_db, "ebay-browse").state()
    assert state is not None and state.until == reset
    assert 3 * 3600 - 60 < redis_db.ttl("boxpro:marketplace:circuit:ebay-browse") <= 3 * 3600
    run = db.execute("SELECT status, error FROM ingest_runs").fetchone()
    assert run["status"] == "deferred" and "quota spent" in run["error"]
    assert db.execute("SELECT count(*) AS n FROM snapshots").fetchone()["n"] == 1  # the first product's
    registry = ScheduledJobRegistry(queue=Queue("default", connection=redis_db))
    (job_id,) = registry.get_job_ids()
    deferred = Queue("default", connection=redis_db).fetch_job(job_id)
    assert deferred.kwargs == {"product_ids": products[1:]}
    assert registry.get_scheduled_time(job_id) == reset + fetch.DEFER_MARGIN

    # While the circuit is open, Browse is not called and the deferred work is not queued twice...
    calls = len(fake_market.requests)
    again = ebay.fetch_listings(products[1:])
    assert again["status"] == "deferred" and len(fake_market.requests) == calls
    assert registry.get_job_ids() == [job_id]
    assert circuit.stats(redis_db, "ebay-browse")["quota_refusals"] == 1
    # ...but Marketplace Insights has its own allowance.
    assert ebay.fetch_sales()["status"] == "succeeded"


@pytest.mark.clock
def test_a_short_window_refusal_pauses_briefly(db, products, fake_market, marketplace_env, redis_db):
    fake_market.quota["buy.browse"] = (1234, datetime.now(UTC) + timedelta(hours=5))  # calls are left today
    fake_market.faults.append(Fault("/item_summary/search", status=429, body=ebay_error(2001, "Too many requests.")))
    result = ebay.fetch_listings([products[0]])
    until = datetime.fromisoformat(result["deferred_until"])
    assert result["status"] == "deferred"
    assert timedelta(seconds=3) < until - datetime.now(UTC) <= timedelta(seconds=5)  # MAX_RETRY_AFTER_S
    assert redis_db.ttl("boxpro:marketplace:circuit:ebay-browse") <= 5


def test_short_quota_window_with_retry_after_is_waited_out(db, products, fake_market, marketplace_env):
    fault = Fault("/item_summary/search", status=429, body=ebay_error(2001, "Too many"), headers={"Retry-After": "1"})
    fake_market.faults.append(fault)
    result = ebay.fetch_listings([products[0]])
    assert result["status"] == "succeeded"
    calls = fake_market.calls("/item_summary/search")
    assert calls[0].status == 429 and _gaps(calls)[0] >= 1.0


@pytest.mark.clock
def test_without_a_rate_limit_report_the_circuit_waits_for_midnight_pacific(
    db, products, fake_market, marketplace_env, redis_db
):
    fake_market.faults.append(quota_spent())
    result = ebay.fetch_sales()  # Insights' resource is not in the fake report
    assert result["status"] == "deferred"
    assert result["deferred_until"] == next_daily_reset(datetime.now(UTC), "America/Los_Angeles").isoformat()
    assert len(fake_market.calls("/buy/")) == 1


def test_adapters_without_credentials_are_skipped_with_one_log_line(db, products, monkeypatch, caplog):
    for name in ("EBAY_CLIENT_ID", "EBAY_CLIENT_SECRET", "TCGPLAYER_PUBLIC_KEY", "TCGPLAYER_PRIVATE_KEY"):
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("TCGCSV_USER_AGENT", "")
    with caplog.at_level(logging.INFO, logger="jobs.marketplaces.fetch"):
        results = [
            ebay.fetch_listings(),
            ebay.fetch_sales(),
            tcgplayer.fetch_prices(),
            tcgplayer.fetch_mirror_prices(),
        ]
    assert [r["skipped"] for r in results] == ["not configured"] * 4
    lines = [r for r in caplog.records if r.name == "jobs.marketplaces.fetch"]
    assert len(lines) == 4 and all(r.getMessage() == "marketplace adapter skipped: no credentials" for r in lines)
    assert lines[0].marketplace == "ebay" and lines[0].missing_settings == ["EBAY_CLIENT_ID", "EBAY_CLIENT_SECRET"]
    assert db.execute("SELECT count(*) AS n FROM ingest_runs").fetchone()["n"] == 0


def test_the_token_bucket_holds_the_rate(redis_db):
    bucket = TokenBucket(redis_db, "test", rate_per_s=20, burst=2)
    started = time.monotonic()
    for _ in range(12):
        bucket.take()
    elapsed = time.monotonic() - started
    assert elapsed >= (12 - 2) / 20 * 0.95  # two from the burst, then 20 a second
    assert bucket.try_take() > 0


def test_tokens_are_renewed_ahead_of_expiry_and_shared(redis_db):
    now = [1_000_000.0]
    minted = []

    def mint():
        minted.append(now[0])
        return f"token-{len(minted)}", 7200.0

    cache = TokenCache(redis_db, "test", mint, renew_before_s=300, clock=lambda: now[0])
    other_worker = TokenCache(redis_db, "test", mint, renew_before_s=300, clock=lambda: now[0])
    assert cache.get() == "token-1" and other_worker.get() == "token-1"
    now[0] += 7200 - 301
    assert cache.get() == "token-1"
    now[0] += 2  # within five minutes of expiry: a new one, before the marketplace refuses the old
    assert other_worker.get() == "token-2" and cache.get() == "token-2"
    cache.invalidate("token-1")  # a stale rejection does not drop the newer token
    assert cache.get() == "token-2" and len(minted) == 2
