"""Fantasy league scoring (sql/functions/leagues.sql) against the independent reference (tests/reference.py),
over a simulated season: three leagues on two lock weekdays and three presets, rosters with captains and
transfers, a wildcard, a carried roster, a product whose floor lapses and a tie in volume. Then the
constraints of migration 0023 and the roster check."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest

from jobs import pipeline
from jobs.sim import driver
from tests import reference
from tests.helpers import MARKET_NOW, metrics, snapshot

LAST_DAY = MARKET_NOW.date()  # Sunday 2026-03-01
DAYS = 30
MONDAYS = [date(2026, 2, 2), date(2026, 2, 9), date(2026, 2, 16), date(2026, 2, 23)]
THURSDAYS = [date(2026, 2, 5), date(2026, 2, 12), date(2026, 2, 19)]
LEAGUE_TABLES = ["leagues", "league_members", "league_rounds", "league_rosters", "league_results"]


def add_user(db, email: str) -> int:
    return db.execute(
        "INSERT INTO users (email, password_hash) VALUES (%s, 'not-a-hash') RETURNING id", [email]
    ).fetchone()["id"]


def add_league(db, commissioner: int, **settings) -> int:
    row = {"name": "League", "max_members": 10, "season_rounds": 4, **settings}
    columns, marks = ", ".join(row), ", ".join(["%s"] * len(row))
    return db.execute(
        f"INSERT INTO leagues (commissioner_id, {columns}) VALUES (%s, {marks}) RETURNING id",
        [commissioner, *row.values()],
    ).fetchone()["id"]


def add_member(db, league: int, user: int) -> int:
    return db.execute(
        "INSERT INTO league_members (league_id, user_id) VALUES (%s, %s) RETURNING id", [league, user]
    ).fetchone()["id"]


def add_round(db, league: int, round_no: int, lock_day: date, status: str = "locked") -> None:
    db.execute(
        "INSERT INTO league_rounds (league_id, round_no, lock_at, lock_day, status) VALUES (%s, %s, %s, %s, %s)",
        [league, round_no, datetime(lock_day.year, lock_day.month, lock_day.day, tzinfo=UTC), lock_day, status],
    )


def add_roster(db, league: int, member: int, round_no: int, products: list[int], captain: int, **flags) -> None:
    db.execute(
        """INSERT INTO league_rosters (league_id, member_id, round_no, roster_size, product_ids, captain_id,
                                       wildcard, carried)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s)""",
        [league, member, round_no, len(products), products, captain, flags.get("wildcard", False),
         flags.get("carried", False)],
    )  # fmt: skip


@pytest.fixture
def season(db, products, settings):
    """Twelve products over 30 simulated days, their metrics, and three leagues' rounds and rosters."""
    db.execute(
        "INSERT INTO products (slug, game, name, product_type) SELECT 'box-' || i, 'pokemon', 'Box ' || i,"
        " 'booster_box' FROM generate_series(1, 9) i"
    )
    ids = [r["id"] for r in db.execute("SELECT id FROM products ORDER BY id")]
    driver.advance(settings.database_url, days=DAYS, now=MARKET_NOW, kind="sim-backfill")
    lapsed = ids[0]
    # Six days without a snapshot, more than max_carry_days: its floor is null on 2026-02-22, the last
    # day of the round locking on 2026-02-16.
    gap = (datetime(2026, 2, 17, tzinfo=UTC), datetime(2026, 2, 23, tzinfo=UTC))
    for table in ("snapshots", "listing_snapshots", "listing_events"):
        db.execute(f"DELETE FROM {table} WHERE product_id = %s AND observed_at >= %s AND observed_at < %s",
                   [lapsed, *gap])  # fmt: skip
    pipeline.run(settings.database_url, (MARKET_NOW - timedelta(days=DAYS)).date(), LAST_DAY)
    # A tie in the week of 2026-02-09: the second product sells exactly what the third does.
    db.execute(
        """UPDATE product_metrics_daily m SET volume_usd = o.volume_usd FROM product_metrics_daily o
           WHERE m.product_id = %s AND o.product_id = %s AND m.day = o.day
             AND m.day BETWEEN '2026-02-09' AND '2026-02-15'""",
        [ids[1], ids[2]],
    )

    rng = random.Random(20)
    plan = [  # preset, roster size, lock days, members
        ("balanced", 3, MONDAYS, 4),
        ("momentum", 5, MONDAYS, 3),
        ("volume", 4, THURSDAYS, 3),
    ]
    user = iter(add_user(db, f"player{i}@example.com") for i in range(16))
    rosters = []
    for n, (preset, size, lock_days, members) in enumerate(plan):
        league = add_league(db, next(user), name=f"League {n}", preset=preset, roster_size=size,
                            season_rounds=len(lock_days), lock_isodow=lock_days[0].isoweekday())  # fmt: skip
        for round_no, lock_day in enumerate(lock_days, 1):
            add_round(db, league, round_no, lock_day)
        for m in range(members):
            member = add_member(db, league, next(user))
            picks = [lapsed, *rng.sample(ids[1:], size - 1)] if m == 0 else rng.sample(ids, size)
            for round_no, lock_day in enumerate(lock_days, 1):
                flags = {}
                if round_no > 1:
                    if m == 1 and round_no == 3:
                        flags["wildcard"] = True  # and 4 transfers, for free
                        swaps = min(4, size)
                    elif m == 2 and round_no == 2:
                        flags["carried"] = True
                        swaps = 0
                    else:
                        swaps = rng.randint(0, size)
                    kept = rng.sample(picks, size - swaps)
                    picks = kept + rng.sample([p for p in ids if p not in picks], swaps)
                captain = picks[0] if m == 0 else rng.choice(picks)
                add_roster(db, league, member, round_no, picks, captain, **flags)
                rosters.append({"league_id": league, "round_no": round_no, "member_id": member,
                                "lock_day": lock_day, "preset": preset, "product_ids": list(picks),
                                "captain_id": captain, "wildcard": flags.get("wildcard", False)})  # fmt: skip
    return {"rosters": rosters, "lapsed": lapsed, "leagues": [r["id"] for r in db.execute("SELECT id FROM leagues")]}


def expected(db, rosters):
    stored = {(r["product_id"], r["day"]): r for r in db.execute("SELECT * FROM product_metrics_daily")}
    active = {r["id"] for r in db.execute("SELECT id FROM products WHERE active")}
    points = {
        (day, preset, product): row
        for day in MONDAYS + THURSDAYS
        for (preset, product), row in reference.league_product_points(stored, active, day).items()
    }
    return points, reference.league_results(rosters, points)


def score_all(db, leagues, reason="rescored") -> int:
    changed = 0
    for day in MONDAYS + THURSDAYS:
        db.execute("SELECT store_league_product_points(%s)", [day])
        changed += db.execute("SELECT score_league_round(%s, %s, %s) AS n", [day, leagues, reason]).fetchone()["n"]
    return changed


def compare(db, rosters) -> dict:
    points, results = expected(db, rosters)
    stored = {
        (r["lock_day"], r["preset"], r["product_id"]): r for r in db.execute("SELECT * FROM league_product_points")
    }
    assert set(stored) == set(points)
    wrong = [
        (key, column, stored[key][column], points[key][column])
        for key in sorted(points)
        for column in ("volume_usd", "pct", "pos", "points", "insufficient_data")
        if not (reference.close(stored[key][column], points[key][column]) if column == "pct"
                else stored[key][column] == points[key][column])
    ]  # fmt: skip
    assert wrong[:10] == []
    scored = {(r["league_id"], r["round_no"], r["member_id"]): r for r in db.execute("SELECT * FROM league_results")}
    assert set(scored) == set(results)
    wrong = [
        (key, column, scored[key][column], results[key][column])
        for key in sorted(results)
        for column in results[key]
        if scored[key][column] != results[key][column]
    ]
    assert wrong[:10] == []
    return results


def test_a_season_scores_as_the_reference_says_and_rescoring_records_corrections(db, season):
    rosters, leagues = season["rosters"], season["leagues"]
    assert score_all(db, leagues) == len(rosters)
    results = compare(db, rosters)
    assert db.execute("SELECT count(*) AS n FROM league_corrections").fetchone()["n"] == 0
    assert {r["status"] for r in db.execute("SELECT status FROM league_rounds")} == {"scored"}

    # The situations the test exists for really occur.
    points = db.execute("SELECT * FROM league_product_points WHERE preset = 'balanced'").fetchall()
    assert any(p["insufficient_data"] and p["product_id"] == season["lapsed"] for p in points)
    assert any(p["pos"] == 0 and p["volume_usd"] > 0 for p in points)  # ranked below 10th
    assert (
        db.execute(
            "SELECT count(*) AS n FROM league_product_points a"
            " JOIN league_product_points b USING (lock_day, preset, pos)"
            " WHERE a.product_id < b.product_id AND a.volume_usd = b.volume_usd AND a.pos > 0"
        ).fetchone()["n"]
        >= 3
    )  # the tie shares its place, in each preset
    assert any(r["penalty"] > 0 for r in results.values())
    wildcards = [r for r in season["rosters"] if r["wildcard"]]
    assert all(results[(r["league_id"], r["round_no"], r["member_id"])]["transfers"] > 2 for r in wildcards)
    assert any(r["insufficient_products"] > 0 for r in results.values())
    view = db.execute(
        "SELECT sum(points * CASE WHEN captain THEN 2 ELSE 1 END) AS s FROM league_roster_points"
    ).fetchone()
    assert view["s"] == sum(r["product_points"] for r in results.values())

    # Scoring again changes nothing: the same rows, no correction, the rounds' times kept.
    before = snapshot(db, [*LEAGUE_TABLES, "league_product_points", "league_corrections"])
    assert score_all(db, leagues) == 0
    assert snapshot(db, [*LEAGUE_TABLES, "league_product_points", "league_corrections"]) == before

    # Late data moves a floor on 2026-02-22, the last day of the round locking on 2026-02-16 and the
    # price day of the next: rescoring records exactly the members holding that product in those two
    # rounds, with their points before and after.
    moved = next(r["product_ids"][1] for r in rosters if r["lock_day"] == date(2026, 2, 16))
    db.execute(
        "UPDATE product_metrics_daily SET floor_price = floor_price * 1.5 WHERE product_id = %s AND day = '2026-02-22'",
        [moved],
    )
    changed = score_all(db, leagues, reason="late data")
    after = compare(db, rosters)
    diff = {k: (results[k]["points"], after[k]["points"]) for k in after if after[k]["points"] != results[k]["points"]}
    assert {k[1] for k in diff} == {3, 4}
    assert changed == len(diff)
    corrections = db.execute("SELECT * FROM league_corrections").fetchall()
    assert {(c["league_id"], c["round_no"], c["member_id"]): (c["points_before"], c["points_after"])
            for c in corrections} == diff  # fmt: skip
    assert {c["reason"] for c in corrections} == {"late data"}
    holders = {(r["league_id"], r["round_no"], r["member_id"]) for r in rosters
               if r["lock_day"] in MONDAYS[2:] and moved in r["product_ids"]}  # fmt: skip
    assert set(diff) == holders


def test_scoring_waits_for_the_rounds_last_day(db, products):
    metrics(db, products[0], date(2026, 2, 21), floor_price=10)
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="2026-02-22"):
        db.execute("SELECT store_league_product_points('2026-02-16')")
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="store_league_product_points"):
        db.execute("SELECT score_league_round('2026-02-16', ARRAY[1])")


@pytest.fixture
def league(db, products):
    user = add_user(db, "ann@example.com")
    league = add_league(db, user, roster_size=2)
    member = add_member(db, league, user)
    add_round(db, league, 1, date(2026, 2, 16))
    add_roster(db, league, member, 1, products[:2], products[0])
    return {"id": league, "member": member, "user": user, "products": products}


@pytest.mark.parametrize(
    ("statement", "values"),
    [
        # a roster too big: more products than the league's size, or a size that is not the league's
        ("INSERT INTO league_rosters (league_id, member_id, round_no, roster_size, product_ids, captain_id)"
         " VALUES (%(league)s, %(member)s, 1, 2, %(three)s, %(p0)s)", {}),
        ("INSERT INTO league_rosters (league_id, member_id, round_no, roster_size, product_ids, captain_id)"
         " VALUES (%(league)s, %(member)s, 1, 3, %(three)s, %(p0)s)", {}),
        # a duplicate product
        ("UPDATE league_rosters SET product_ids = ARRAY[%(p0)s, %(p0)s]", {}),
        # a captain off the roster (a roster names one captain: two cannot be written)
        ("UPDATE league_rosters SET captain_id = %(p2)s", {}),
        # an unknown preset, a seat limit out of 2..20, a private league without its code
        ("UPDATE leagues SET preset = 'chaos'", {}),
        ("UPDATE leagues SET max_members = 21", {}),
        ("UPDATE leagues SET is_private = true", {}),
        ("UPDATE leagues SET budget_usd = 0", {}),
        # a second active membership, a second wildcard
        ("INSERT INTO league_members (league_id, user_id) VALUES (%(league)s, %(user)s)", {}),
        ("UPDATE league_rosters SET wildcard = true, carried = true", {}),
        # results that do not add up
        ("INSERT INTO league_results (league_id, round_no, member_id, product_points, transfers, penalty, points,"
         " insufficient_products) VALUES (%(league)s, 1, %(member)s, 10, 3, 4, 10, 0)", {}),
    ],
)  # fmt: skip
def test_the_database_refuses_rows_the_rules_forbid(db, league, statement, values):
    products = league["products"]
    params = {"league": league["id"], "member": league["member"], "user": league["user"], "p0": products[0],
              "p2": products[2], "three": products, **values}  # fmt: skip
    before = snapshot(db, LEAGUE_TABLES)
    with pytest.raises(psycopg.errors.IntegrityError):
        db.execute(statement, params)
    assert snapshot(db, LEAGUE_TABLES) == before


def test_one_wildcard_a_season(db, league):
    add_round(db, league["id"], 2, date(2026, 2, 23), status="open")
    db.execute("UPDATE league_rosters SET wildcard = true")
    with pytest.raises(psycopg.errors.UniqueViolation):
        add_roster(db, league["id"], league["member"], 2, league["products"][:2], league["products"][0], wildcard=True)


def test_a_roster_is_checked_at_the_prices_of_its_day(db, products):
    a, b, c = products
    day = date(2026, 2, 15)
    metrics(db, a, day, floor_price=Decimal("600.00"), market_price=Decimal("1.00"))
    metrics(db, b, day, floor_price=None, market_price=Decimal("400.00"))  # no floor: its market price
    metrics(db, c, day, floor_price=None, market_price=None)  # no price: cannot be picked
    prices = {r["product_id"]: r["price"] for r in db.execute("SELECT * FROM league_prices(%s)", [day])}
    assert prices == {a: Decimal("600.00"), b: Decimal("400.00")}

    def problems(ids, captain, budget=1000, size=2):
        return db.execute(
            "SELECT league_roster_problems(%s, %s, %s, %s, %s) AS p", [day, size, budget, ids, captain]
        ).fetchone()["p"]

    assert problems([a, b], a) == []
    assert problems([a, b], a, budget=Decimal("999.99")) == ["over_budget"]
    assert problems([a, b], c) == ["captain"]
    assert problems([a, c], a) == ["unpriced"]
    assert problems([a, a], a) == ["duplicate"]
    assert problems([a, b, c], a) == ["size", "unpriced"]
    assert problems([], None) == ["size", "captain"]
    db.execute("UPDATE products SET active = false WHERE id = %s", [b])
    assert problems([a, b], a) == ["unpriced"]
