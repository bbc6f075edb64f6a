"""Admin: manual import of observations as JSON or CSV, through the same ingest path as the adapters."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from marshmallow import ValidationError

from service.api.blueprint import Blueprint, allow_body
from service.api.errors import ApiError
from service.api.imports.schemas import ImportArgs, ImportBody, ImportResult
from service.core import recompute
from service.core.ingest import manual
from service.core.sql import query
from service.extensions import database, redis_client

blp = Blueprint("imports", __name__, url_prefix="/api/v1/admin/import", description="Manual import (admins only)")
MAX_FILE_BYTES = 20 * 1024 * 1024
CSV_TYPES = ("text/csv", "application/csv")
KINDS = ("listings", "sales", "prices")
KIND_HELP = """
Rows, as JSON `{"rows": [...]}` or as CSV (`Content-Type: text/csv`, a header line naming the fields):

- **listings**: product (id or slug), observed_at (ISO 8601 with zone), listing_id, seller_id, unit_price,
  shipping (0), quantity (1). Rows with the same product and observed_at form one complete snapshot.
- **sales**: product, sold_at, sale_key (default: a hash of the row), unit_price, shipping (0), quantity (1).
- **prices**: product, observed_at, and at least one of market_price, low_price, mid_price, high_price,
  direct_low_price.

Every row is validated first: one bad row and nothing is imported (422, `details.rows` by row number,
CSV rows numbered by line). Importing the same file again writes nothing new. Metrics are recomputed by
a pipeline job from the first day imported.
"""


def _rows() -> tuple[list[Any], int, Any]:
    """The rows of the request body, the number of the first row, and the raw body to keep."""
    if request.mimetype in CSV_TYPES:
        try:
            text = request.get_data(as_text=False).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ApiError(400, "The CSV file is not UTF-8.") from None
        try:
            rows, first_line = manual.read_csv(text)
        except manual.InvalidImport as exc:
            raise ApiError(422, str(exc)) from None
        return rows, first_line, text
    if request.mimetype != "application/json":
        raise ApiError(415, "Send JSON (application/json) or CSV (text/csv).", code="unsupported_media_type")
    try:
        body = ImportBody().load(request.get_json())
    except ValidationError as exc:
        raise ApiError(422, "The request is not valid; see details.", details={"json": exc.messages}) from None
    return body["rows"], 1, body


@blp.route(
    "/<any(listings, sales, prices):kind>",
    methods=["POST"],
    parameters=[
        {"in": "path", "name": "kind", "schema": {"type": "string", "title": "ImportKind", "enum": list(KINDS)}}
    ],
)
@allow_body(MAX_FILE_BYTES)
@blp.admin_required
@blp.arguments(ImportArgs, location="query")
@blp.doc(
    description=KIND_HELP,
    requestBody={
        "required": True,
        "content": {
            "application/json": {"schema": ImportBody},
            "text/csv": {"schema": {"type": "string"}},
        },
    },
)
@blp.response(201, ImportResult)
@blp.alt_response(413, description="The file is larger than 20 MB")
@blp.alt_response(415, description="Neither JSON nor CSV")
def import_observations(args: dict[str, Any], kind: str) -> dict[str, Any]:
    """Import listings, sales or price points."""
    rows, first_line, raw = _rows()
    with database().connection() as conn:
        if not conn.execute(query("ingest/marketplace"), {"code": args["marketplace"]}).fetchone():
            raise ApiError(422, f"Unknown marketplace {args['marketplace']!r}.")
        try:
            valid = manual.validate_rows(conn, kind, rows, first_line)
            report = manual.write(conn, kind, args["marketplace"], valid, raw=raw)
        except manual.InvalidImport as exc:
            raise ApiError(422, str(exc), details={"rows": exc.errors} if exc.errors else None) from None
    return {
        "run_id": report.run_id,
        "rows": report.rows,
        "written": dict(report.result.written),
        "skipped": dict(report.result.skipped),
        "pipeline_job": _request_pipeline(),
    }


def _request_pipeline() -> str | None:
    """The import asked for its days to be recomputed (the writer recorded that with the rows); queue
    the pipeline for them. If Redis is down the import still stands: the catch-up entry runs it."""
    return recompute.request_run(redis_client(), current_app.config["SETTINGS"].pipeline_debounce_s)
