"""The contract as a mobile or web team uses it: a Python client generated from the served /openapi.json
by a third-party generator (openapi-python-client), driving a real gunicorn through a user's journey.
Every answer, errors included, must parse into its model: a generated client's `parsed` is None for
an error the document gives no schema, and a KeyError or ValueError when a body breaks its schema."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import requests

from tests.helpers import PASSWORD, TEST_DATABASE_URL, TEST_REDIS_URL, serve_api

PACKAGE = "boxpro_contract_client"
# The one operation the generator skips: it cannot take a body that is JSON or CSV (text/csv).
KNOWN_WARNINGS = ("POST /api/v1/admin/import/{kind}",)


def generate(spec_url: str, where: Path) -> ModuleType:
    (where / "openapi.json").write_bytes(requests.get(spec_url, timeout=10).content)
    (where / "config.yaml").write_text(f"package_name_override: {PACKAGE}\npost_hooks: []\n")
    generator = Path(sys.executable).parent / "openapi-python-client"
    done = subprocess.run(
        [str(generator), "generate", "--path", str(where / "openapi.json"), "--config", str(where / "config.yaml"),
         "--meta", "none", "--output-path", str(where / PACKAGE)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    warned = [line for line in done.stdout.splitlines() if line.startswith("WARNING parsing")]
    assert all(any(known in line for known in KNOWN_WARNINGS) for line in warned), done.stdout
    sys.path.insert(0, str(where))
    return importlib.import_module(PACKAGE)


def operation(name: str) -> Any:
    """A generated operation module, found by its operationId wherever its tag put it."""
    for tag in (Path(sys.modules[PACKAGE].__file__).parent / "api").iterdir():  # type: ignore[arg-type]
        if (tag / f"{name}.py").exists():
            return importlib.import_module(f"{PACKAGE}.api.{tag.name}.{name}")
    raise AssertionError(f"no generated operation {name}")


@pytest.fixture
def generated(market, redis_db, tmp_path):  # type: ignore[no-untyped-def]
    env = {
        "DATABASE_URL": TEST_DATABASE_URL,
        "REDIS_URL": TEST_REDIS_URL,
        "JWT_SECRET_KEY": "contract-test-" + "k" * 40,
        "RATE_LIMIT_DEFAULT": "100000/minute",
        "RATE_LIMIT_AUTH": "100000/minute",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
    }
    (tmp_path / "prometheus").mkdir()
    with serve_api(env) as base:
        yield base, generate(f"{base}/openapi.json", tmp_path)
    sys.path.remove(str(tmp_path))
    for name in [name for name in sys.modules if name.startswith(PACKAGE)]:
        del sys.modules[name]


def call(name: str, **kwargs: Any) -> Any:
    return operation(name).sync_detailed(**kwargs)


def test_a_user_journey_through_a_generated_client(generated):
    base, client_package = generated
    models = importlib.import_module(f"{PACKAGE}.models")
    anonymous = client_package.Client(base_url=base, raise_on_unexpected_status=True)

    def expect(response: Any, status: int, model: Any) -> Any:
        assert response.status_code == status, (response.status_code, response.content[:300])
        assert isinstance(response.parsed, model), (type(response.parsed), response.content[:300])
        return response.parsed

    credentials = models.Credentials(email="journey@example.com", password=PASSWORD)
    registration = models.Registration(email="journey@example.com", password=PASSWORD)
    registered = expect(call("register", client=anonymous, body=registration), 202, models.Accepted)
    again = expect(call("register", client=anonymous, body=registration), 202, models.Accepted)
    assert again.message == registered.message  # the same answer: it does not tell who has an account
    wrong = models.Credentials(email="journey@example.com", password="not the password")
    assert expect(call("login", client=anonymous, body=wrong), 401, models.Error).code == "unauthorized"
    tokens = expect(call("login", client=anonymous, body=credentials), 200, models.Tokens)
    signed_in = client_package.AuthenticatedClient(
        base_url=base, token=tokens.access_token, raise_on_unexpected_status=True
    )
    assert expect(call("get_me", client=signed_in), 200, models.User).email == "journey@example.com"

    board = expect(
        call("get_leaderboard", client=anonymous, limit=10, sort=models.LeaderboardSort.VOLUME_7D,
             direction=models.Direction.DESC),
        200, models.LeaderboardPage,
    )  # fmt: skip
    assert board.meta.direction == models.Direction.DESC and len(board.data) == 3
    row = board.data[0]
    assert row.change_1d is None or isinstance(row.change_1d, models.RankChange)
    assert row.metrics.liquidity_label is None or isinstance(row.metrics.liquidity_label, models.LiquidityLabel)
    assert isinstance(row.product.reprint_risk, models.ReprintRisk)
    slug = row.product.slug

    detail = expect(call("get_product", product=slug, client=anonymous), 200, models.ProductDetail)
    assert detail.product.slug == slug and detail.marketplaces
    history = expect(
        call("get_product_history", product=slug, client=anonymous, interval=models.Interval.WEEK,
             metrics="floor_price,units_sold,momentum"),
        200, models.History,
    )  # fmt: skip
    assert history.data and all(isinstance(point, models.HistoryPoint) for point in history.data)
    assert any(isinstance(point.units_sold, int) for point in history.data)
    movers = expect(call("get_movers", client=anonymous, period=models.Period.SEVEN_DAYS), 200, models.Movers)
    assert movers.meta.period == models.Period.SEVEN_DAYS
    expect(call("get_market_index", client=anonymous), 200, models.MarketIndex)

    watched = call("add_watchlist_item", client=signed_in, body=models.WatchlistAdd(product=slug))
    assert watched.status_code == 201
    watchlist = expect(call("get_watchlist", client=signed_in), 200, models.WatchlistPage)
    assert [item.product.slug for item in watchlist.data] == [slug]
    alert_in = models.AlertIn(product=slug, kind=models.AlertKind.FLOOR_BELOW, price=10.0)
    alert = expect(call("create_alert", client=signed_in, body=alert_in), 201, models.Alert)
    assert alert.kind == models.AlertKind.FLOOR_BELOW and alert.window is None
    alerts = expect(call("get_alerts", client=signed_in), 200, models.AlertPage)
    assert [a.id for a in alerts.data] == [alert.id]
    holding_in = models.HoldingIn(product=slug, quantity=2, unit_cost=50.0)
    expect(call("add_holding", client=signed_in, body=holding_in), 201, models.Holding)
    portfolio = expect(call("get_portfolio", client=signed_in), 200, models.Portfolio)
    assert portfolio.data[0].quantity == 2

    # The errors, each parsed into the error model.
    missing = expect(call("get_product", product="no-such-box", client=anonymous), 404, models.Error)
    assert missing.code == "not_found" and missing.message
    invalid = expect(call("get_leaderboard", client=anonymous, limit=0), 422, models.Error)
    assert "limit" in invalid.details.additional_properties["query"]
    assert call("logout", client=signed_in).status_code == 204
    revoked = expect(call("get_me", client=signed_in), 401, models.Error)
    assert revoked.code == "unauthorized"
