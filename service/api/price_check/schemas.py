from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from service.api.catalog.schemas import PRODUCT_REF
from service.api.schemas import enum, metric_field


class PriceCheckArgs(Schema):
    product = fields.String(
        validate=[validate.Length(1, 200), PRODUCT_REF], metadata={"description": "Product id or slug"}
    )
    tcgplayer_id = fields.Integer(validate=validate.Range(1, 10**9))
    q = fields.String(validate=validate.Length(2, 200), metadata={"description": "Product name text"})
    price = fields.Decimal(
        required=True,
        as_string=False,
        validate=validate.Range(0.01, 1_000_000),
        metadata={"description": "The listing's price in USD (landed)"},
    )

    @validates_schema
    def exactly_one_product(self, data: dict, **_: object) -> None:
        given = [k for k in ("product", "tcgplayer_id", "q") if k in data]
        if len(given) != 1:
            raise ValidationError("name the product with exactly one of product, tcgplayer_id or q", "product")


class PriceCheck(Schema):
    product_id = fields.Integer(required=True)
    slug = fields.String(required=True)
    name = fields.String(required=True)
    price = fields.Decimal(as_string=False, required=True)
    verdict = enum(
        "Verdict",
        ("good", "fair", "overpriced", "unknown"),
        required=True,
        metadata={"description": "good (<= floor), fair (<= 1.10 x floor), overpriced, or unknown (no floor)"},
    )
    floor_price = metric_field("floor_price")
    market_price = metric_field("market_price")
    floor_change_pct_7d = metric_field("floor_change_pct_7d")
    liquidity_score = metric_field("liquidity_score")
    liquidity_label = metric_field("liquidity_label")
    day = fields.Date(allow_none=True)
