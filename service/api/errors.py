"""One JSON shape for every error the API returns.

    {"status": 422, "code": "validation_error", "message": "...", "details": {...}, "request_id": "..."}

`code` is stable for clients to branch on; `message` is for people; `details` names the fields.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
import redis
from flask import Flask, Response, jsonify
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException

from service.core.logs import request_id_var

log = logging.getLogger(__name__)
DATABASE_RETRY_AFTER_S = 5  # a restart of the database takes a few seconds; the pool reconnects by itself
REDIS_RETRY_AFTER_S = 5  # so does Redis's, and redis-py reconnects by itself

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


class ErrorSchema(Schema):
    """The error body, as documented in OpenAPI."""

    status = fields.Integer(required=True, metadata={"example": 422})
    code = fields.String(required=True, metadata={"example": "validation_error"})
    message = fields.String(required=True)
    details = fields.Dict(
        required=True, metadata={"description": "Per-location, per-field messages ({} when there are none)"}
    )
    request_id = fields.String(metadata={"description": "The request's X-Request-ID", "optional": True})


class ApiError(Exception):
    """Raise from a view to answer with a specific status, code and details."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or CODES.get(status, "error")
        self.details = details
        self.headers = headers or {}


def error_response(
    status: int,
    message: str,
    *,
    code: str | None = None,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    # One shape for every error: `details` is {} when there is nothing to say per field.
    body: dict[str, Any] = {
        "status": status,
        "code": code or CODES.get(status, "error"),
        "message": message,
        "details": details or {},
    }
    request_id = request_id_var.get()
    if request_id:
        body["request_id"] = request_id
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def http_exception_response(error: HTTPException) -> Response:
    """Werkzeug and webargs errors in our shape. webargs puts field messages in error.data."""
    data = getattr(error, "data", None) or {}
    status = error.code or 500
    details = data.get("messages")
    message = error.description or "Error"
    if status == 422:
        message = "The request is not valid; see details."
    headers = dict(data.get("headers") or {})
    if status == 405 and error.get_response().headers.get("Allow"):
        headers["Allow"] = error.get_response().headers["Allow"]
    return error_response(status, message, details=details, headers=headers)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response:
        return error_response(
            error.status, error.message, code=error.code, details=error.details, headers=error.headers
        )

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        return http_exception_response(error)

    @app.errorhandler(psycopg.DataError)
    def _bad_value(error: psycopg.DataError) -> Response:
        # A value our validation let through but the database cannot store (a NUL character, a
        # number out of range): the caller's input, so a 400; logged, as validation should catch it.
        log.warning("database refused a value", extra={"error": str(error)[:200]})
        return error_response(400, "A value in the request cannot be stored (out of range or malformed).")

    @app.errorhandler(psycopg.OperationalError)  # the server is gone or restarting; PoolTimeout is one too
    @app.errorhandler(psycopg.InterfaceError)  # a connection the restart closed under us
    def _database_unavailable(error: psycopg.Error) -> Response:
        log.warning("database unavailable", extra={"error": f"{type(error).__name__}: {str(error)[:200]}"})
        return error_response(
            503,
            "The database is unavailable for a moment; retry shortly.",
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)},
        )

    # Redis unreachable or too slow: reads and sign-in go on without it (each catches its errors), but
    # what cannot (queueing a job, reading one) lands here, from whichever route or library raised it.
    @app.errorhandler(redis.ConnectionError)
    @app.errorhandler(redis.TimeoutError)
    def _redis_unavailable(error: redis.RedisError) -> Response:
        log.warning("redis unavailable", extra={"error": f"{type(error).__name__}: {str(error)[:200]}"})
        return error_response(
            503,
            "The job queue is unavailable for a moment; retry shortly.",
            headers={"Retry-After": str(REDIS_RETRY_AFTER_S)},
        )

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        # Full details go to the log, never to the client.
        log.exception("unhandled error")
        return error_response(500, "Internal server error.")
