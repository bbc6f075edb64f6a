"""Admin: the catalog (games, products, product sources). Products are deactivated, never deleted:
their observations and metrics stay. Every change moves the API cache on (new data version)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import current_app
from psycopg import errors, sql

from service.api.blueprint import Blueprint
from service.api.catalog.routes import find_product
from service.api.catalog_admin.schemas import (
    AdminGame,
    AdminProduct,
    AdminSource,
    AdminSourceList,
    GameIn,
    GamePatch,
    ProductFields,
    ProductIn,
    SourceFields,
    SourceIn,
)  # fmt: skip
from service.api.common import envelope
from service.api.errors import ApiError
from service.core import images, recompute, urls
from service.core.cache import bump_data_version
from service.core.catalog import slugify
from service.core.sql import query
from service.extensions import database, redis_client

blp = Blueprint("catalog-admin", __name__, url_prefix="/api/v1/admin", description="The catalog (admins only)")
PRODUCT_COLUMNS = tuple(ProductFields().fields)
SOURCE_COLUMNS = tuple(SourceFields().fields)
# The catalog fields the stored ranks depend on: who is ranked, the reprint-risk tie-break, the game scope.
RANKED_BY = ("active", "reprint_risk", "game")


@contextmanager
def constraint_errors(what: str) -> Iterator[None]:
    """Database constraint violations as client errors: a duplicate is 409, a bad reference 422."""
    try:
        yield
    except errors.UniqueViolation:
        raise ApiError(409, f"{what} already exists.", code="conflict") from None
    except errors.ForeignKeyViolation as exc:
        detail = exc.diag.message_detail or str(exc)
        raise ApiError(422, f"{what} refers to something that does not exist: {detail}") from None
    except errors.CheckViolation as exc:
        raise ApiError(422, f"{what} breaks the rule {exc.diag.constraint_name}.") from None


def _changed() -> None:
    """Cached responses show catalog fields: move the cache on (a Redis outage is logged, not raised)."""
    bump_data_version(redis_client())


def _rerank(product_id: int, why: str) -> None:
    """Ranks are stored per day (product_ranks_daily): ask the pipeline to rank the latest computed day
    again, so that a deactivated product leaves no gap in the leaderboard's ranks."""
    with database().connection() as conn:
        latest = conn.execute(query("pipeline/last_computed_day")).fetchone()
        if latest is None or latest["day"] is None:
            return  # nothing ranked yet
        recompute.mark(conn, latest["day"], f"product {product_id}: {why}")
    recompute.request_run(redis_client(), current_app.config["SETTINGS"].pipeline_debounce_s)


def _update(name: str, columns: tuple[str, ...], key: int, body: dict[str, Any]) -> dict[str, Any] | None:
    """UPDATE with a SET list of the given fields only (names checked against `columns`)."""
    given = [c for c in columns if c in body]
    if not given:
        raise ApiError(422, "Nothing to change: give at least one field.")
    assignments = sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder(c)) for c in given)
    statement = sql.SQL(query(name)).format(assignments=assignments)
    with database().connection() as conn:
        return conn.execute(statement, {**{c: body[c] for c in given}, "id": key}).fetchone()


def _product(product_id: int) -> dict[str, Any]:
    row = find_product(str(product_id))
    row |= database().fetch_one("catalog_admin/product_image", {"id": product_id}) or {}
    row["sources"] = database().fetch_all("catalog_admin/sources", {"product_id": product_id})
    return row


def _check_image_url(body: dict[str, Any]) -> None:
    """The service will download an admin's image URL: a public https host only (the SSRF guard)."""
    url = body.get("image_override_url")
    if url is None:
        return
    try:  # the check its download makes (jobs/images.py): a URL it would refuse is refused now
        urls.public_address(url, allow_private=current_app.config["SETTINGS"].image_allow_private)
    except urls.Unresolvable:
        pass  # a name without an address yet may have one by the download
    except urls.UnsafeUrl as exc:
        raise ApiError(
            422, "The request is not valid; see details.", details={"json": {"image_override_url": [str(exc)]}}
        ) from None


def _image_changed(body: dict[str, Any], product_id: int) -> None:
    """A new override (or none) may change the wanted image: its download job says whether."""
    if "image_override_url" in body:
        images.request_downloads(redis_client(), [product_id])


@blp.route("/games", methods=["POST"])
@blp.admin_required
@blp.arguments(GameIn)
@blp.response(201, AdminGame)
@blp.alt_response(409, description="The game exists")
def create_game(body: dict[str, Any]) -> dict[str, Any]:
    """Add a game."""
    with constraint_errors(f"AdminGame {body['code']!r}"):
        row = database().fetch_one("catalog_admin/create_game", body)
    _changed()
    assert row is not None
    return row


@blp.route("/games/<string:code>", methods=["PATCH"])
@blp.admin_required
@blp.arguments(GamePatch)
@blp.response(200, AdminGame)
@blp.alt_response(404, description="No such game")
def update_game(body: dict[str, Any], code: str) -> dict[str, Any]:
    """Rename a game."""
    row = database().fetch_one("catalog_admin/update_game", {"code": code, **body})
    if row is None:
        raise ApiError(404, f"No game {code[:50]!r}.")
    _changed()
    return row


@blp.route("/products", methods=["POST"])
@blp.admin_required
@blp.arguments(ProductIn)
@blp.response(201, AdminProduct)
@blp.alt_response(409, description="A product with this slug exists")
def create_product(body: dict[str, Any]) -> dict[str, Any]:
    """Add a product to the catalog."""
    _check_image_url(body)
    slug = body.get("slug") or slugify(body["name"])
    if not slug:
        raise ApiError(422, "The name gives no slug; give one.", details={"json": {"slug": ["required"]}})
    params = {column: body.get(column) for column in PRODUCT_COLUMNS} | {"slug": slug}
    with constraint_errors(f"Product {slug!r}"):
        row = database().fetch_one("catalog_admin/create_product", params)
    assert row is not None
    _changed()
    _image_changed(body, row["id"])
    return _product(row["id"])


@blp.route("/products/<string:product>")
@blp.admin_required
@blp.response(200, AdminProduct)
@blp.alt_response(404, description="No such product")
def get_admin_product(product: str) -> dict[str, Any]:
    """A product with every catalog field (inactive ones too) and its sources."""
    return _product(find_product(product)["id"])


@blp.route("/products/<string:product>", methods=["PATCH"])
@blp.admin_required
@blp.arguments(ProductFields)
@blp.response(200, AdminProduct)
@blp.alt_response(404, description="No such product")
def update_product(body: dict[str, Any], product: str) -> dict[str, Any]:
    """Change catalog fields (null clears an optional one)."""
    product_id = find_product(product)["id"]
    _check_image_url(body)
    with constraint_errors("The product"):
        _update("catalog_admin/update_product", PRODUCT_COLUMNS, product_id, body)
    if changed := [field for field in RANKED_BY if field in body]:
        _rerank(product_id, f"{', '.join(changed)} changed")
    _changed()
    _image_changed(body, product_id)
    return _product(product_id)


@blp.route("/products/<string:product>", methods=["DELETE"])
@blp.admin_required
@blp.response(204)
@blp.alt_response(404, description="No such product")
def deactivate_product(product: str) -> None:
    """Deactivate a product: it leaves listings, fetches and the ranks (from the latest day on, once the
    pipeline has run); its history is kept."""
    product_id = find_product(product)["id"]
    database().fetch_one("catalog_admin/deactivate_product", {"id": product_id})
    _rerank(product_id, "deactivated")
    _changed()


@blp.route("/products/<string:product>/sources")
@blp.admin_required
@blp.response(200, AdminSourceList)
@blp.alt_response(404, description="No such product")
def product_sources(product: str) -> dict[str, Any]:
    """How each marketplace identifies the product."""
    rows = database().fetch_all("catalog_admin/sources", {"product_id": find_product(product)["id"]})
    return envelope(rows, total=len(rows), limit=len(rows), offset=0)


@blp.route("/products/<string:product>/sources", methods=["POST"])
@blp.admin_required
@blp.arguments(SourceIn)
@blp.response(201, AdminSource)
@blp.alt_response(409, description="The product already has a source on this marketplace")
def create_source(body: dict[str, Any], product: str) -> dict[str, Any]:
    """Add a marketplace source (TCGplayer id, eBay search with category and price band, ...)."""
    params = {c: body.get(c) for c in SOURCE_COLUMNS} | {
        "product_id": find_product(product)["id"],
        "marketplace": body["marketplace"],
    }
    with constraint_errors(f"A {body['marketplace']} source for this product"):
        row = database().fetch_one("catalog_admin/create_source", params)
    assert row is not None
    return _source(row["id"])


def _source(source_id: int) -> dict[str, Any]:
    row = database().fetch_one("catalog_admin/source", {"id": source_id})
    if row is None:
        raise ApiError(404, f"No source {source_id}.")
    return row


@blp.route("/sources/<int:source_id>", methods=["PATCH"])
@blp.admin_required
@blp.arguments(SourceFields)
@blp.response(200, AdminSource)
@blp.alt_response(404, description="No such source")
def update_source(body: dict[str, Any], source_id: int) -> dict[str, Any]:
    """Change a source."""
    _source(source_id)
    with constraint_errors("The source"):
        _update("catalog_admin/update_source", SOURCE_COLUMNS, source_id, body)
    return _source(source_id)


@blp.route("/sources/<int:source_id>", methods=["DELETE"])
@blp.admin_required
@blp.response(204)
@blp.alt_response(404, description="No such source")
def delete_source(source_id: int) -> None:
    """Remove a source (what it fetched stays)."""
    if database().fetch_one("catalog_admin/delete_source", {"id": source_id}) is None:
        raise ApiError(404, f"No source {source_id}.")
