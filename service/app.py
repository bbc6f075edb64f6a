"""The application factory: the one place that wires the core, the API and the command line together.

`flask --app service.app` and gunicorn (`wsgi.py`) call `create_app()`.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import click
from flask import Flask, Response, g, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import RequestEntityTooLarge

from jobs import schedule
from service.api.admin.routes import blp as admin_bp
from service.api.alerts.routes import blp as alerts_bp
from service.api.auth.routes import blp as auth_bp
from service.api.auth.tokens import init_auth
from service.api.blueprint import API_SPEC, Api
from service.api.catalog.routes import blp as catalog_bp
from service.api.catalog_admin.routes import blp as catalog_admin_bp
from service.api.docs import init_docs
from service.api.errors import register_error_handlers
from service.api.health.routes import blp as health_bp
from service.api.hit_path import CachedReads
from service.api.images.routes import blp as images_bp
from service.api.imports.routes import blp as imports_bp
from service.api.leaderboard.routes import blp as leaderboard_bp
from service.api.market.routes import blp as market_bp
from service.api.notifications.routes import blp as notifications_bp
from service.api.portfolio.routes import blp as portfolio_bp
from service.api.price_check.routes import blp as price_check_bp
from service.api.product_data.routes import blp as product_data_bp
from service.api.ratelimit import init_rate_limits
from service.api.representation import init_representation
from service.api.security import init_security
from service.api.telemetry import init_telemetry, record_request
from service.api.watchlist.routes import blp as watchlist_bp
from service.commands.config import read_all, settings_cli
from service.commands.data import data_cli
from service.commands.ingest import ingest_cli
from service.commands.jobs import jobs_cli
from service.commands.market import catalog_cli, sim_cli
from service.commands.pipeline import pipeline_cli
from service.commands.schema import db_cli, rollups_cli
from service.commands.users import users_cli
from service.core.cache import connect_redis
from service.core.db import Database
from service.core.logs import configure_logging, new_request_id, request_id_var
from service.core.settings import Env, Settings, SettingsError
from service.web import init_web

MAX_INTEGER_DIGITS = 100  # far beyond any field (64-bit integers have 19 digits), far below Python's 4,300


class _Unreadable(ValueError):
    """A JSON value no field can take (see JSONProvider.loads)."""


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise _Unreadable(f"an integer of more than {MAX_INTEGER_DIGITS} digits")
    return int(text)


def _no_constant(name: str) -> Any:
    raise _Unreadable(f"{name} is not a JSON number")


class JSONProvider(DefaultJSONProvider):
    """Money leaves the database as Decimal: clients get JSON numbers (exact to the cent), not strings.
    Dates and times are ISO 8601 (Flask's default is the HTTP date format)."""

    sort_keys = False

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """The one reader of request bodies (Flask's get_json and the argument parser's, blueprint.py).
        What json.loads takes but no field can use is malformed input, a 400 (JSONDecodeError is the
        ValueError both callers answer so), never a crash: a body nested deeper than the parser can
        recurse, an integer too long to convert (Python refuses more than 4,300 digits; no field takes
        more than MAX_INTEGER_DIGITS), and NaN or Infinity, which are not JSON (RFC 8259)."""
        try:
            return super().loads(s, parse_int=_integer, parse_constant=_no_constant, **kwargs)
        except (RecursionError, _Unreadable) as exc:
            reason = "JSON nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            raise json.JSONDecodeError(reason, doc="(the body)", pos=0) from None

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, Decimal):
            return float(o)
        if isinstance(o, date | datetime):
            return o.isoformat()
        return DefaultJSONProvider.default(o)


class App(Flask):
    """Flask, minus a check per hook per request: `ensure_sync` inspects a function for a coroutine on
    every call (before/after/teardown hooks and views alike, six of them on a cached read); the answer
    never changes, so it is worked out once per function."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        sync = self._sync.get(func)
        if sync is None:
            sync = self._sync[func] = super().ensure_sync(func)
        return sync


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or _settings_from_env()
    configure_logging(settings.log_level)

    app = App(__name__)
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
        pool_timeout_s=settings.db_pool_timeout_s,
    )
    app.extensions["boxpro.redis"] = connect_redis(settings.redis_url)
    app.extensions["boxpro.schedule"] = {entry.name: entry for entry in schedule.for_mode(settings.data_mode)}

    _install_request_context(app)
    register_error_handlers(app)
    init_security(app, settings)
    init_representation(app)
    redis_client = app.extensions["boxpro.redis"]
    limiter = init_rate_limits(app, redis_client, settings.rate_limit_default, settings.rate_limit_auth)
    init_auth(app, settings.jwt_secret_key or _development_secret())
    _register_api(app)
    init_web(app)
    init_docs(app)
    init_telemetry(app)
    _register_cli(app)
    app.wsgi_app = CachedReads(app.wsgi_app, limiter, settings)  # type: ignore[method-assign]
    return app


BLUEPRINTS = (
    health_bp,
    auth_bp,
    catalog_bp,
    product_data_bp,
    images_bp,
    leaderboard_bp,
    market_bp,
    price_check_bp,
    watchlist_bp,
    portfolio_bp,
    alerts_bp,
    notifications_bp,
    admin_bp,
    catalog_admin_bp,
    imports_bp,
)
CLI_GROUPS = (
    db_cli,
    rollups_cli,
    catalog_cli,
    sim_cli,
    pipeline_cli,
    jobs_cli,
    ingest_cli,
    users_cli,
    settings_cli,
    data_cli,
)


def _register_api(app: Flask) -> Api:
    for key, value in API_SPEC.items():
        app.config.setdefault(key, value)
    api = Api(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    return api


def _settings_from_env() -> Settings:
    """Every setting, the marketplace adapters' too, validated at start. Under the flask CLI a bad value
    ends the command with every bad variable and why, one a line: the app must load before any of its
    commands runs, `flask settings check` included, so a traceback here would be all an operator sees."""
    try:
        settings, _ = read_all(Env.load())
    except SettingsError as exc:
        if click.get_current_context(silent=True) is None:
            raise
        raise click.ClickException(f"bad settings (the environment or .env):\n{exc}") from None
    return settings


def _register_cli(app: Flask) -> None:
    for group in CLI_GROUPS:
        app.cli.add_command(group)


def _development_secret() -> str:
    """Outside production a missing JWT_SECRET_KEY gets a random one (tokens die with the process)."""
    logging.getLogger(__name__).warning("JWT_SECRET_KEY is not set; using a random development key")
    return secrets.token_urlsafe(48)


def _limit_body(app: Flask) -> None:
    """Refuse an oversized body up front (413), even on routes that would never read it. A view may
    allow more with `max_body_bytes` (service.api.allow_body)."""
    if request.environ.get("CONTENT_LENGTH") in (None, "", "0") or not request.content_length:
        return  # most requests have no body: the first test spares them parsing the header
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
        g.request_id = new_request_id(request.environ.get("HTTP_X_REQUEST_ID"))
        g.request_id_token = request_id_var.set(g.request_id)
        _limit_body(app)

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        started = g.get("request_started")
        if started is not None:
            route = request.url_rule.rule if request.url_rule is not None else "unmatched"
            status, cache = response.status_code, response.headers.get("X-Cache")
            seconds = time.perf_counter() - started
            record_request(route, request.method, request.path, status, seconds, cache, g.request_id)
        return response

    @app.teardown_request
    def _reset(_exc: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            request_id_var.reset(token)
