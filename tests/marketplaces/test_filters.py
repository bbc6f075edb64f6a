"""Title filters and multi-box lots (SPEC §2), and the quota reset clock."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from jobs.marketplaces.filters import SourceRules, in_price_band, judge, lot_size, per_unit
from jobs.marketplaces.http import retry_after_seconds
from service.core.catalog import DEFAULT_EXCLUDE_TERMS
from service.core.circuits import next_daily_reset

RULES = SourceRules(exclude_terms=tuple(DEFAULT_EXCLUDE_TERMS), packs_per_box=36)


@pytest.mark.parametrize(
    ("title", "reason"),
    [
        ("Pokemon Surging Sparks Booster Box Japanese", "title_asian_edition"),
        ("Surging Sparks Booster Box - Korean Version", "title_asian_edition"),
        ("Surging Sparks booster box EMPTY", "title_not_sealed"),
        ("Surging Sparks Booster Box opened, 30 packs left", "title_not_sealed"),
        ("Surging Sparks Booster Box DAMAGED corner", "title_not_sealed"),
        ("Surging Sparks Booster Box Case (6 boxes)", "title_case"),
        ("Surging Sparks 3 booster packs", "title_packs"),
        ("Surging Sparks Booster Box LIVE BREAK", "title_break"),
        ("Surging Sparks Booster Box bulk lot", "title_unreadable_lot"),
        ("Surging Sparks Booster Boxes sealed", "title_unreadable_lot"),
    ],
)
def test_listings_that_are_not_the_product_are_rejected(title, reason):
    assert judge(title, RULES).reason == reason


@pytest.mark.parametrize(
    ("title", "units"),
    [
        ("Pokemon Surging Sparks Booster Box 36 Packs Factory Sealed", 1),
        ("One Piece OP-02 Paramount War Booster Box English", 1),
        ("Pokemon 151 Booster Box", 1),
        ("Lot of 3 Surging Sparks Booster Boxes Sealed", 3),
        ("Surging Sparks Booster Box x2", 2),
        ("2x Surging Sparks Booster Box", 2),
        ("(2) Surging Sparks Booster Boxes", 2),
        ("OP-05 Booster Box 4 booster boxes", 4),
    ],
)
def test_boxes_and_lots_are_counted(title, units):
    verdict = judge(title, RULES)
    assert verdict.accepted and verdict.units == units


def test_a_sources_own_terms_and_pack_count():
    rules = SourceRules(exclude_terms=("display only", "sleeved"), packs_per_box=24)
    assert judge("OP-01 Booster Box display only", rules).reason == "title_not_sealed"
    assert judge("OP-01 Booster Box sleeved", rules).reason == "title_excluded_term"
    assert judge("OP-01 Booster Box 24 packs", rules).accepted
    assert judge("OP-01 Booster Box 12 packs", rules).reason == "title_packs"  # not this box's count


def test_unit_prices_and_bands():
    assert per_unit(Decimal("450.00"), 3) == Decimal("150.00")
    assert per_unit(Decimal("100.00"), 3) == Decimal("33.33")
    band = SourceRules(price_min=Decimal(50), price_max=Decimal(500))
    assert in_price_band(Decimal(50), band) and not in_price_band(Decimal("500.01"), band)
    assert lot_size("lot of 99 boxes") is None


def test_ebay_quota_resets_at_midnight_pacific():
    assert next_daily_reset(datetime(2026, 11, 22, 7, 30, tzinfo=UTC), "America/Los_Angeles") == datetime(
        2026, 11, 22, 8, 0, tzinfo=UTC
    )
    assert next_daily_reset(datetime(2026, 7, 1, 8, 0, tzinfo=UTC), "America/Los_Angeles") == datetime(
        2026, 7, 2, 7, 0, tzinfo=UTC
    )
    assert next_daily_reset(datetime(2026, 7, 1, 8, 0, tzinfo=UTC), "No/Such_Zone") == datetime(
        2026, 7, 2, 8, 0, tzinfo=UTC
    )


def test_retry_after_as_seconds_or_a_date():
    now = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds("Sun, 22 Nov 2026 07:00:30 GMT", now) == 30.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None
