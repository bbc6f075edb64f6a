"""Fixtures for the marketplace tests: the fake servers, product sources pointing at them, and the
environment the fetch jobs read (credentials, base URLs, fast backoff), for in-process and worker runs.

Test modules bind them by assignment (`fake_market = fixtures.fake_market`) rather than touching
tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from service.core.catalog import DEFAULT_EXCLUDE_TERMS
from service.core.settings import Settings
from tests.fakes.marketplaces import EBAY_ID, EBAY_SECRET, TCG_PRIVATE, TCG_PUBLIC, FakeMarketplaces, FakeProduct
from tests.helpers import TEST_REDIS_URL


@pytest.fixture
def fake_market(db: psycopg.Connection, products: list[int]) -> Iterator[FakeMarketplaces]:
    """The fake marketplaces serving the three test products, with their TCGplayer and eBay sources."""
    rows = db.execute("SELECT id, name FROM products ORDER BY id").fetchall()
    names = {row["id"]: row["name"] for row in rows}
    fakes = [
        FakeProduct(pid, str(450_001 + i), f"{names[pid]} booster box", names[pid], 23_000 + i // 2)
        for i, pid in enumerate(products)
    ]
    for product in fakes:
        db.execute(
            "INSERT INTO product_sources (product_id, marketplace, external_id) VALUES (%s, 'tcgplayer', %s)",
            [product.product_id, product.tcgplayer_id],
        )
        db.execute(
            "INSERT INTO product_sources (product_id, marketplace, search_query, exclude_terms)"
            " VALUES (%s, 'ebay', %s, %s)",
            [product.product_id, product.query, DEFAULT_EXCLUDE_TERMS],
        )
    fake = FakeMarketplaces(fakes)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


def market_env(base_url: str, settings: Settings) -> dict[str, str]:
    return {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": TEST_REDIS_URL,
        "TCGPLAYER_PUBLIC_KEY": TCG_PUBLIC,
        "TCGPLAYER_PRIVATE_KEY": TCG_PRIVATE,
        "TCGPLAYER_BASE_URL": base_url + "/tcgplayer",
        "TCGCSV_BASE_URL": base_url + "/tcgcsv",
        "TCGCSV_USER_AGENT": "BoosterBoxPro-tests/1.0 (ops@example.com)",
        "TCGCSV_CATEGORY_IDS": "68,3",
        "EBAY_CLIENT_ID": EBAY_ID,
        "EBAY_CLIENT_SECRET": EBAY_SECRET,
        "EBAY_BASE_URL": base_url + "/ebay",
        "EBAY_INSIGHTS_ENABLED": "1",
        "EBAY_PAGE_LIMIT": "10",
        "MARKETPLACE_CONNECT_TIMEOUT_S": "1",
        "MARKETPLACE_READ_TIMEOUT_S": "0.5",
        "MARKETPLACE_BACKOFF_BASE_S": "0.05",
        "MARKETPLACE_BACKOFF_MAX_S": "0.5",
        "MARKETPLACE_MAX_RETRY_AFTER_S": "5",
        "TCGPLAYER_RATE_PER_S": "1000",
        "TCGPLAYER_BURST": "100",
        "TCGCSV_RATE_PER_S": "1000",
        "TCGCSV_BURST": "100",
        "EBAY_RATE_PER_S": "1000",
        "EBAY_BURST": "100",
    }


@pytest.fixture
def marketplace_env(
    monkeypatch: pytest.MonkeyPatch, fake_market: FakeMarketplaces, settings: Settings, redis_db
) -> dict[str, str]:
    """The environment of the fetch jobs, set in this process; returned for worker subprocesses."""
    env = market_env(fake_market.base_url, settings)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env
