"""The web dashboard in a real browser (Debian's chromium driven by Playwright) against the real service
(gunicorn, the test database with the `market` fixture's simulated boxes): a visitor's and a member's
journey, on a desktop and on a 390 px phone. Every page is screenshotted (.var/artifacts/screenshots)
and checked with axe-core (no serious or critical violation); the browser logs no error (a blocked
script or style would be a CSP error)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from service.core.settings import PROJECT_ROOT
from tests.helpers import TEST_DATABASE_URL, TEST_REDIS_URL, clear_of_window_edges, serve_api

CHROMIUM = Path("/usr/bin/chromium")
AXE = PROJECT_ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
DIST = PROJECT_ROOT / "web" / "dist" / "index.html"
SCREENSHOTS = PROJECT_ROOT / ".var" / "artifacts" / "screenshots"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
PASSWORD = "harbour-lantern-copper-91"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    assert CHROMIUM.exists(), "chromium is missing: scripts/install-system.sh installs it (apt-get install chromium)"
    assert DIST.exists() and AXE.exists(), "build the web client first: scripts/web.sh build (make test does)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


ENV = {
    "DATABASE_URL": TEST_DATABASE_URL,
    "REDIS_URL": TEST_REDIS_URL,
    "JWT_SECRET_KEY": "browser-test-secret-" + "x" * 40,
    "RATE_LIMIT_DEFAULT": "100000/minute",
}


@pytest.fixture
def site(market, redis_db) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with serve_api(ENV) as base:
        yield base


class Visit:
    """One browser tab on the site: pages, screenshots, accessibility and console checks."""

    def __init__(self, browser, base: str, viewport: str) -> None:  # type: ignore[no-untyped-def]
        self.base, self.viewport = base, viewport
        self.context = browser.new_context(viewport=VIEWPORTS[viewport])
        self.context.add_init_script(path=str(AXE))  # injected by the browser itself, not by the page's CSP
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("response", self._response)

    def _console(self, message) -> None:  # type: ignore[no-untyped-def]
        # Failed requests are judged by _response, which knows their URL; anything else is an error.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def _response(self, response) -> None:  # type: ignore[no-untyped-def]
        if response.status < 400:
            return
        # Until the server takes `"session": "cookie"`, sign-in and sign-up are refused for it once and
        # retried without it (web/src/api/auth.ts).
        if (
            response.status == 422
            and response.url.endswith(("/auth/login", "/auth/register"))
            and "session" in response.json().get("details", {}).get("json", {})
        ):
            return
        self.errors.append(f"{response.status} {response.request.method} {response.url}")

    def api(self, path: str) -> dict:  # type: ignore[type-arg]
        response = requests.get(f"{self.base}/api/v1{path}", timeout=10)
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    def checked(self, name: str) -> None:
        """Screenshot the page, and fail on a serious or critical accessibility violation."""
        self.page.wait_for_load_state("networkidle")
        expect(self.page.locator(".loading")).to_have_count(0)  # every part of the page loaded
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.viewport}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}")
        result = self.page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"]
            if v["impact"] in {"serious", "critical"}
        ]
        assert bad == [], f"{name}: {json.dumps(bad, indent=1)}"
        assert self.errors == [], f"{name}: the browser logged errors: {self.errors}"
        overflow = self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name}: the page is {overflow} px wider than the {self.viewport} screen"

    def nav(self, name: str) -> None:
        toggle = self.page.get_by_role("button", name="Menu")
        if toggle.is_visible():
            toggle.click()
        self.page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_visitor_browses_signs_up_watches_alerts_holds_and_signs_out(browser, site, viewport):
    visit = Visit(browser, site, viewport)
    page = visit.page

    # The leaderboard, as the API ranks it, with the demo banner.
    page.goto(site + "/")
    rows = page.get_by_test_id("leaderboard").locator("tbody tr")
    ranked = visit.api("/leaderboard?limit=25")["data"]
    rows.first.wait_for()
    assert rows.count() == len(ranked) == 3
    assert page.get_by_test_id("demo-banner").is_visible()
    assert rows.first.get_by_role("link").inner_text() == ranked[0]["product"]["name"]
    visit.checked("leaderboard")

    # Sort by floor price, lowest first, then filter one game: the rows follow the API.
    page.get_by_label("Sort by").select_option("floor_price")
    page.get_by_label("Order").select_option("asc")
    page.wait_for_url(re.compile(r"sort=floor_price.*dir=asc|dir=asc.*sort=floor_price"))
    by_floor = visit.api("/leaderboard?sort=floor_price&direction=asc")["data"]
    expect(rows.get_by_role("link")).to_have_text([r["product"]["name"] for r in by_floor])
    earlier = _days_before(visit.api("/leaderboard?limit=1")["meta"]["day"], 5)  # the date picker: a past day
    page.get_by_label("Day", exact=True).fill(earlier)
    page.wait_for_url(re.compile(f"date={earlier}"))
    then = visit.api(f"/leaderboard?sort=floor_price&direction=asc&date={earlier}")
    expect(page.get_by_text(f"day {earlier} (UTC)")).to_be_visible()
    expect(rows.get_by_role("link")).to_have_text([r["product"]["name"] for r in then["data"]])
    page.get_by_label("Game").select_option("pokemon")
    page.wait_for_url(re.compile(r"game=pokemon"))
    pokemon = visit.api("/leaderboard?game=pokemon")["data"]
    assert len(pokemon) >= 1
    expect(rows.get_by_role("link")).to_have_text([r["product"]["name"] for r in pokemon])
    box = pokemon[0]["product"]

    # A box: the price chart has one point per day of the API's history, for each range.
    page.get_by_role("link", name=box["name"]).click()
    page.get_by_role("heading", level=1, name=box["name"]).wait_for()
    day = visit.api(f"/products/{box['slug']}")["metrics"]["day"]
    metrics = "floor_price,market_price,floor_sma_7d,volume_usd,volume_ema_7d"
    for label, days in (("90 days", 90), ("30 days", 30)):
        page.get_by_role("button", name=label).click()
        page.wait_for_load_state("networkidle")
        start = _days_before(day, days)
        history = visit.api(f"/products/{box['slug']}/history?metrics={metrics}&from={start}&to={day}")["data"]
        assert len(history) > 5
        for chart in ("price-chart", "volume-chart"):
            expect(page.get_by_test_id(chart)).to_have_attribute("data-points", str(len(history)))
            page.get_by_test_id(chart).locator("canvas").first.wait_for()
    floor = visit.api(f"/products/{box['slug']}")["metrics"]["floor_price"]
    page.get_by_label("Asking price (USD)").fill(f"{floor:.2f}")
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_test_id("verdict")).to_contain_text("good")  # at the floor: good (SPEC §6)
    visit.checked("box")

    # Sign up from the box page, and come back to it.
    page.get_by_role("link", name="Sign in", exact=True).last.click()
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("E-mail").fill(f"{viewport}@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    visit.checked("sign-up")
    page.get_by_role("button", name="Sign up").click()
    page.get_by_role("heading", level=1, name=box["name"]).wait_for()

    # Watch it, alert on it, hold two of it.
    page.get_by_test_id("watch").click()
    page.get_by_role("button", name="On your watchlist ✓").wait_for()
    page.get_by_role("link", name="Create alert").click()
    page.get_by_label("When").select_option("floor_below")
    page.get_by_label("Price (USD)").fill("12.50")
    page.get_by_role("button", name="Create alert").click()
    alert = page.get_by_test_id("alerts").locator("li")
    alert.first.wait_for()
    assert "Floor below $12.50" in alert.first.inner_text()
    alert.first.get_by_role("button", name="Edit").click()
    alert.first.get_by_label("Price (USD)").fill("11")
    alert.first.get_by_role("button", name="Save").click()
    expect(alert.first).to_contain_text("Floor below $11.00")
    alert.first.get_by_role("button", name="Pause").click()
    alert.first.get_by_role("button", name="Resume").wait_for()
    visit.checked("alerts")
    alert.first.get_by_role("button", name="Delete").click()
    page.get_by_text("No alerts yet").wait_for()
    page.get_by_label("Price (USD)").fill("12.50")
    page.get_by_role("button", name="Create alert").click()  # one kept, for the rest of the journey
    alert.first.wait_for()

    visit.nav("Portfolio")
    page.get_by_label("Box").fill(box["slug"])
    page.get_by_label("Quantity").fill("2")
    page.get_by_label("Unit cost (USD)").fill("100")
    page.get_by_role("button", name="Add holding").click()
    page.get_by_test_id("holdings").locator("tbody tr").first.wait_for()
    metrics_now = visit.api(f"/products/{box['slug']}")["metrics"]
    unit = metrics_now["floor_price"] or metrics_now["market_price"]
    assert page.get_by_test_id("portfolio-value").inner_text() == f"${2 * unit:,.2f}"
    visit.checked("portfolio")

    visit.nav("Watchlist")
    page.get_by_test_id("watchlist").get_by_role("link", name=box["name"]).wait_for()
    visit.checked("watchlist")
    visit.nav("Inbox")
    page.get_by_text("No notifications yet").wait_for()
    visit.checked("inbox")
    visit.nav("Market")
    index_days = len(visit.api("/market/index/history")["data"])
    expect(page.get_by_test_id("index-chart")).to_have_attribute("data-points", str(index_days))
    visit.checked("market")
    visit.nav("Search")
    page.get_by_label("Name, set or code").fill(box["name"].split()[0])
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=box["name"]).wait_for()
    visit.checked("search")

    # Sign out: the private pages ask for a sign-in again.
    toggle = page.get_by_role("button", name="Menu")
    if toggle.is_visible():
        toggle.click()
    page.get_by_test_id("sign-out").click()
    page.wait_for_url(site + "/")  # the app goes home once the server has ended the session
    page.goto(site + "/watchlist")
    page.get_by_role("heading", name="Sign in").wait_for()
    visit.checked("sign-in")
    visit.context.close()


def _days_before(day: str, days: int) -> str:
    return (date.fromisoformat(day) - timedelta(days=days)).isoformat()


def test_a_rate_limited_and_then_unreachable_service_is_said_so(browser, market, redis_db):
    visit = Visit(browser, "", "desktop")
    page = visit.page
    clear_of_window_edges()
    with serve_api({**ENV, "RATE_LIMIT_DEFAULT": "1/minute"}) as base:
        page.goto(base + "/search?q=box")  # the page's one API call: the minute's whole budget
        page.get_by_role("link", name="OP-01 Box").wait_for()
        page.get_by_label("Name, set or code").fill("151")
        page.get_by_role("button", name="Search").click()
        expect(page.get_by_role("alert")).to_contain_text(
            re.compile(r"Too many requests right now; trying again in \d+ s")
        )
    page.get_by_label("Name, set or code").fill("op")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("alert")).to_contain_text("The service cannot be reached")
    page.get_by_role("button", name="Try again").wait_for()
    visit.context.close()


def test_a_browser_session_survives_a_reload_by_its_refresh_cookie_and_ends_at_sign_out(browser, site):
    visit = Visit(browser, site, "desktop")
    page = visit.page
    page.goto(site + "/signup")
    page.get_by_label("E-mail").fill("cookie@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.get_by_test_id("sign-out").wait_for()

    # The access token lived in memory only; the reload finds it again through the refresh cookie.
    page.goto(site + "/watchlist")
    page.get_by_role("heading", name="Your watchlist").wait_for()
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    cookies = {c["name"]: c for c in visit.context.cookies()}
    assert cookies["refresh_token_cookie"]["httpOnly"] and cookies["refresh_token_cookie"]["sameSite"] == "Strict"
    assert cookies["refresh_token_cookie"]["path"] == "/api/v1/auth/refresh"
    assert "refresh_token_cookie" not in page.evaluate("document.cookie")
    visit.checked("watchlist-after-reload")

    page.get_by_test_id("sign-out").click()
    page.get_by_role("link", name="Sign in", exact=True).wait_for()
    page.goto(site + "/watchlist")
    page.get_by_role("heading", name="Sign in").wait_for()
    visit.context.close()


def test_the_password_reset_and_e_mail_pages_speak_to_the_api(browser, site):
    visit = Visit(browser, site, "phone")
    page = visit.page
    page.goto(site + "/signin")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("E-mail").fill("nobody@example.com")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("status")).to_contain_text("an e-mail with a link to choose a new password is on its way")
    visit.checked("forgot-password")

    invalid = "This link is invalid, expired or already used"
    page.goto(site + "/reset-password?token=not-a-token")
    page.get_by_label("New password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_role("alert")).to_contain_text(invalid)
    assert visit.errors == [f"400 POST {site}/api/v1/auth/password-reset/confirm"]
    visit.errors.clear()
    visit.checked("reset-password")

    page.goto(site + "/verify-email?token=not-a-token")
    expect(page.get_by_role("alert")).to_contain_text(invalid)
    assert visit.errors == [f"400 POST {site}/api/v1/auth/verify-email"]
    visit.errors.clear()
    visit.checked("verify-email")
    visit.context.close()
