"""Box images: GET /api/v1/products/{id or slug}/image.

The service serves the images its job downloaded (jobs/images.py), so a client that shows a box never
contacts the image host itself. `image_url` in product rows points here with `?v=` set to the image's
version: that URL's answer never changes, so clients may keep it for a year; without `v` (or with an
old one) the answer may change and is kept an hour. The ETag is the image's SHA-256.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request

from service.api.blueprint import Blueprint
from service.api.catalog.routes import find_product
from service.api.errors import ApiError
from service.api.images.schemas import ImageArgs
from service.extensions import database

blp = Blueprint("images", __name__, url_prefix="/api/v1/products", description="Box images")

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, max-age=3600"


@blp.route("/<string:product>/image")
@blp.arguments(ImageArgs, location="query")
@blp.response(200, description="The box image (image/jpeg, image/png or image/webp)")
@blp.alt_response(304, description="Not modified (If-None-Match holds the image's ETag)")
@blp.alt_response(404, description="No such product, or no image stored for it")
def product_image(args: dict[str, Any], product: str) -> Response:
    """The product's box image, as stored by the service (a placeholder is the client's to show on 404)."""
    found = find_product(product)
    # If-None-Match compares weakly (RFC 9110); "*" matches any image.
    known = list(request.if_none_match.as_set(include_weak=True)) + (["*"] if request.if_none_match.star_tag else [])
    row = database().fetch_one("images/served", {"product_id": found["id"], "known": known})
    if row is None:
        raise ApiError(404, f"No image for product {found['id']} yet.")
    if row["data"] is None:
        response = Response(status=304)
    else:
        response = Response(bytes(row["data"]), mimetype=row["content_type"])
    response.set_etag(row["sha256"])
    response.headers["Cache-Control"] = IMMUTABLE if args.get("v") == row["sha256"][:16] else REVALIDATE
    return response
