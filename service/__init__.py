"""BoosterBoxPro: market intelligence for sealed trading-card products."""

from __future__ import annotations

import logging
import time
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Flask, Response, g, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import RequestEntityTooLarge

from service.api import init_api
from service.auth import init_auth
from service.cache import connect_redis
from service.db import Database
from service.errors import register_error_handlers
from service.logs import configure_logging, new_request_id, request_id_var
from service.ratelimit import init_rate_limits
from service.security import init_security
from service.settings import Settings
from service.telemetry import init_telemetry, observe

access_log = logging.getLogger("boxpro.access")


class JSONProvider(DefaultJSONProvider):
    """Money leaves the database as Decimal: clients get JSON numbers (exact to the cent), not strings.
    Dates and times are ISO 8601 (Flask's default is the HTTP date format)."""

    sort_keys = False

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, Decimal):
            return float(o)
        if isinstance(o, date | datetime):
            return o.isoformat()
        return DefaultJSONProvider.default(o)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level)

    app = Flask(__name__)
    app.json = JSONProvider(app)
    app.config.update(
        SETTINGS=settings,
        # Errors become our JSON 500 even in tests, never a re-raised exception or an HTML page.
        PROPAGATE_EXCEPTIONS=False,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
    )
    app.extensions["boxpro.db"] = Database(
        settings.database_url,
        min_size=settings.db_pool_min_size,
        max_size=settings.db_pool_max_size,
        statement_timeout_ms=settings.statement_timeout_ms,
        connect_timeout_s=settings.db_connect_timeout_s,
    )
    app.extensions["boxpro.redis"] = connect_redis(settings.redis_url)

    _install_request_context(app)
    register_error_handlers(app)
    init_security(app, settings)
    init_rate_limits(app, app.extensions["boxpro.redis"], settings.rate_limit_default, settings.rate_limit_auth)
    init_auth(app, settings.jwt_secret_key or _development_secret())
    init_api(app)
    init_telemetry(app)

    from service.commands import register_cli

    register_cli(app)
    return app


def _development_secret() -> str:
    """Outside production a missing JWT_SECRET_KEY gets a random one (tokens die with the process)."""
    import secrets

    logging.getLogger(__name__).warning("JWT_SECRET_KEY is not set; using a random development key")
    return secrets.token_urlsafe(48)


def _limit_body(app: Flask) -> None:
    """Refuse an oversized body up front (413), even on routes that would never read it. A view may
    allow more with `max_body_bytes` (service.api.allow_body)."""
    if not request.content_length:
        return
    allowed = getattr(app.view_functions.get(request.endpoint or ""), "max_body_bytes", None)
    if allowed:
        request.max_content_length = allowed
    limit = request.max_content_length
    if limit is not None and request.content_length > limit:
        raise RequestEntityTooLarge()


def _install_request_context(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        g.request_started = time.perf_counter()
        g.request_id = new_request_id(request.headers.get("X-Request-ID"))
        g.request_id_token = request_id_var.set(g.request_id)
        _limit_body(app)

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        started = g.get("request_started")
        seconds = time.perf_counter() - started if started is not None else None
        if seconds is not None:
            observe(request, response, seconds)
        if access_log.isEnabledFor(logging.INFO):
            access_log.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round(seconds * 1000, 2) if seconds is not None else None,
                },
            )
        return response

    @app.teardown_request
    def _reset(_exc: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            request_id_var.reset(token)
