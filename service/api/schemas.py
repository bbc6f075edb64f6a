"""Shapes and validators shared by several resources."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate


def whole_cents(amount: Decimal) -> None:
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValidationError("at most 2 decimal places")


MONEY: list[Callable[[Any], Any]] = [validate.Range(0, 1_000_000), whole_cents]


def liquidity_label(score: float | None) -> str | None:
    """SPEC §4: High >= 70, Moderate >= 40, Low below."""
    if score is None:
        return None
    return "High" if score >= 70 else "Moderate" if score >= 40 else "Low"


def rank_movement(now: int | None, before: int | None) -> str | None:
    """up, down, same, or new (no rank before); None without a rank now."""
    if now is None:
        return None
    if before is None:
        return "new"
    return "up" if now < before else "down" if now > before else "same"


class ProductSummary(Schema):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    name = fields.String(required=True)
    game = fields.String(required=True)
    set_code = fields.String(allow_none=True)
    set_name = fields.String(allow_none=True)
    product_type = fields.String(required=True)
    release_date = fields.Date(allow_none=True)
    image_url = fields.String(allow_none=True)
    reprint_risk = fields.String(required=True)


class MetricsSummary(Schema):
    day = fields.Date(required=True)
    floor_price = fields.Decimal(as_string=False, allow_none=True)
    market_price = fields.Decimal(as_string=False, allow_none=True)
    volume_24h = fields.Decimal(as_string=False, allow_none=True)
    volume_7d = fields.Decimal(as_string=False, allow_none=True)
    volume_30d = fields.Decimal(as_string=False, allow_none=True)
    volume_ema_7d = fields.Float(allow_none=True)
    units_sold = fields.Integer(allow_none=True)
    units_sold_7d = fields.Integer(allow_none=True)
    units_sold_30d = fields.Integer(allow_none=True)
    floor_change_pct_1d = fields.Float(allow_none=True)
    floor_change_pct_7d = fields.Float(allow_none=True)
    floor_change_pct_30d = fields.Float(allow_none=True)
    visible_market_cap = fields.Decimal(as_string=False, allow_none=True)
    liquidity_score = fields.Float(allow_none=True)
    liquidity_label = fields.Method("_liquidity_label", allow_none=True)
    days_to_plus_20pct = fields.Float(allow_none=True)
    expected_days_to_sell = fields.Float(allow_none=True)
    active_listings = fields.Integer(allow_none=True)
    units_listed = fields.Integer(allow_none=True)
    momentum = fields.Float(allow_none=True)
    sold_avg_30d = fields.Float(allow_none=True)
    insufficient_history = fields.Boolean()
    low_liquidity = fields.Boolean()
    stale = fields.Boolean()

    def _liquidity_label(self, row: dict) -> str | None:
        return liquidity_label(row.get("liquidity_score"))


class RankMovement(Schema):
    rank = fields.Integer(allow_none=True)
    rank_1d_ago = fields.Integer(allow_none=True)
    rank_7d_ago = fields.Integer(allow_none=True)
    change_1d = fields.Method("_change_1d", metadata={"description": "up, down, same or new"})
    change_7d = fields.Method("_change_7d", metadata={"description": "up, down, same or new"})

    def _change_1d(self, row: dict) -> str | None:
        return rank_movement(row.get("rank"), row.get("rank_1d_ago"))

    def _change_7d(self, row: dict) -> str | None:
        return rank_movement(row.get("rank"), row.get("rank_7d_ago"))
