from __future__ import annotations

from marshmallow import Schema, fields, validate

from service.api.common import Meta
from service.api.schemas import MONEY, REPRINT_RISKS, Pattern, day, enum

SLUG = Pattern(r"^[a-z0-9]+(-[a-z0-9]+)*$", error="lowercase letters, digits and single dashes")
SHORT_TEXT = validate.Length(1, 200)


class GameIn(Schema):
    code = fields.String(required=True, validate=[validate.Length(1, 50), SLUG])
    name = fields.String(required=True, validate=SHORT_TEXT)


class GamePatch(Schema):
    name = fields.String(required=True, validate=SHORT_TEXT)


class AdminGame(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)


class ProductFields(Schema):
    """Every editable catalog field; required ones are marked in ProductIn."""

    game = fields.String(validate=[validate.Length(1, 50), SLUG])
    name = fields.String(validate=validate.Length(1, 300))
    product_type = fields.String(validate=Pattern(r"^[a-z_]{1,50}$"))
    set_code = fields.String(validate=validate.Length(1, 50), allow_none=True)
    set_name = fields.String(validate=SHORT_TEXT, allow_none=True)
    language = fields.String(validate=Pattern(r"^[a-z]{2}$"))
    release_date = day(allow_none=True)
    msrp_usd = fields.Decimal(as_string=False, validate=MONEY, allow_none=True)
    packs_per_box = fields.Integer(validate=validate.Range(1, 10_000), allow_none=True)
    image_override_url = fields.Url(
        schemes={"https", "http"},  # http only where IMAGE_ALLOW_PRIVATE says so (routes.py)
        validate=validate.Length(max=2000),
        allow_none=True,
        metadata={
            "description": "The box image's URL (https, a public host), chosen by an admin: it wins over the"
            " marketplaces' and fetches leave it alone; null hands the image back to the marketplaces."
            " The service downloads it and serves it at `image_url`."
        },
    )
    reprint_risk = enum("ReprintRisk", REPRINT_RISKS)
    estimated_total_supply = fields.Integer(validate=validate.Range(1, 10**12), allow_none=True)
    notes = fields.String(validate=validate.Length(0, 2000), allow_none=True)
    active = fields.Boolean()


class ProductIn(ProductFields):
    slug = fields.String(validate=[validate.Length(1, 200), SLUG], metadata={"description": "Default: from the name"})
    game = fields.String(required=True, validate=[validate.Length(1, 50), SLUG])
    name = fields.String(required=True, validate=validate.Length(1, 300))
    product_type = fields.String(required=True, validate=Pattern(r"^[a-z_]{1,50}$"))


class SourceFields(Schema):
    external_id = fields.String(validate=SHORT_TEXT, allow_none=True, metadata={"description": "e.g. TCGplayer id"})
    search_query = fields.String(validate=SHORT_TEXT, allow_none=True, metadata={"description": "eBay keywords"})
    category_id = fields.String(validate=Pattern(r"^[0-9]{1,20}$"), allow_none=True)
    price_min_usd = fields.Decimal(as_string=False, validate=MONEY, allow_none=True)
    price_max_usd = fields.Decimal(as_string=False, validate=MONEY, allow_none=True)
    exclude_terms = fields.List(fields.String(validate=validate.Length(1, 50)), validate=validate.Length(max=100))
    active = fields.Boolean()


class SourceIn(SourceFields):
    marketplace = fields.String(required=True, validate=Pattern(r"^[a-z]+(-[a-z]+)*$"))


class AdminSource(SourceIn):
    id = fields.Integer(required=True)
    product_id = fields.Integer(required=True)


class AdminProduct(ProductIn):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    image_url = fields.String(
        allow_none=True, metadata={"description": "Where the service serves the stored image; null until one is"}
    )
    image_source_url = fields.String(allow_none=True, metadata={"description": "The image URL a marketplace gives"})
    image_error = fields.String(
        allow_none=True, metadata={"description": "Why the last download of the wanted image failed, if it did"}
    )
    sources = fields.List(fields.Nested(AdminSource))


class AdminSourceList(Schema):
    data = fields.List(fields.Nested(AdminSource), required=True)
    meta = fields.Nested(Meta, required=True)
