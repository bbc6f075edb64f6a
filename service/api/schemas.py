"""Shapes and validators shared by several resources."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from service.core import metrics


def whole_cents(amount: Decimal) -> None:
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValidationError("at most 2 decimal places")


MONEY: list[Callable[[Any], Any]] = [validate.Range(0, 1_000_000), whole_cents]


class ProductSummary(Schema):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    name = fields.String(required=True)
    game = fields.String(required=True)
    set_code = fields.String(allow_none=True)
    set_name = fields.String(allow_none=True)
    product_type = fields.String(required=True)
    release_date = fields.Date(allow_none=True)
    image_url = fields.String(
        allow_none=True,
        metadata={
            "description": "The box image, served by this service (a path: GET /api/v1/products/{id}/image?v=...);"
            " null when none is stored (show a placeholder)"
        },
    )
    reprint_risk = fields.String(required=True)


def metric_field(name: str) -> fields.Field:
    """The field of a catalogued metric (service/core/metrics.py): its type and description come from there."""
    metric = metrics.BY_NAME[name]
    meta = {"description": metric.description}
    match metric.kind:
        case "money":
            return fields.Decimal(as_string=False, allow_none=True, metadata=meta)
        case "number" | "percent":
            return fields.Float(allow_none=True, metadata=meta)
        case "integer":
            return fields.Integer(allow_none=True, metadata=meta)
        case "flag":
            return fields.Boolean(metadata=meta)
        case "label":
            return fields.String(allow_none=True, dump_only=True, metadata=meta)


# A product's day as the leaderboard, the watchlist and product detail show it: the catalogue's summary
# metrics, in its order (the leaderboard builds the same object in SQL).
MetricsSummary = Schema.from_dict(
    {"day": fields.Date(required=True), **{metric.name: metric_field(metric.name) for metric in metrics.SUMMARY}},
    name="MetricsSummary",
)

MOVEMENT = "up, down, same, or new (no rank before); null without a rank"


class RankMovement(Schema):
    rank = fields.Integer(allow_none=True)
    rank_1d_ago = fields.Integer(allow_none=True)
    rank_7d_ago = fields.Integer(allow_none=True)
    change_1d = fields.String(allow_none=True, dump_only=True, metadata={"description": MOVEMENT})
    change_7d = fields.String(allow_none=True, dump_only=True, metadata={"description": MOVEMENT})
