"""Configuration, read once from the environment (and a .env file in development)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A setting is missing or malformed."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


@dataclass(frozen=True)
class Settings:
    database_url: str = "postgresql://postgres@127.0.0.1:55432/boxpro"
    redis_url: str = "redis://127.0.0.1:56379/0"
    environment: str = "development"
    log_level: str = "INFO"
    jwt_secret_key: str = field(default="", repr=False)
    statement_timeout_ms: int = 15_000
    db_pool_min_size: int = 1
    db_pool_max_size: int = 8
    db_connect_timeout_s: int = 5
    # Health checks must answer quickly even when a dependency hangs.
    health_timeout_s: float = 2.0
    # Per client IP (per user once authenticated), e.g. "300/minute" (per second, minute, hour or day).
    rate_limit_default: str = "300/minute"
    rate_limit_auth: str = "10/minute"
    cors_origins: tuple[str, ...] = ()
    # Off: cached endpoints always answer from the database (for measuring the uncached path).
    response_cache: bool = True
    # Webhooks go to public addresses only, unless this is set (tests and private deployments).
    webhook_allow_private: bool = False
    webhook_timeout_s: float = 10.0
    # When set, GET /metrics wants it as a bearer token (Prometheus' `authorization` setting).
    metrics_token: str = field(default="", repr=False)
    migrations_dir: Path = PROJECT_ROOT / "migrations"
    sql_dir: Path = PROJECT_ROOT / "sql"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from the process environment, falling back to the project's .env file."""
        if environ is None:
            env = {**dotenv_values(PROJECT_ROOT / ".env"), **os.environ}
            environ = {k: v for k, v in env.items() if v is not None}
        defaults = cls()
        settings = cls(
            database_url=environ.get("DATABASE_URL", defaults.database_url),
            redis_url=environ.get("REDIS_URL", defaults.redis_url),
            environment=environ.get("BOXPRO_ENV", defaults.environment),
            log_level=environ.get("LOG_LEVEL", defaults.log_level).upper(),
            jwt_secret_key=environ.get("JWT_SECRET_KEY", ""),
            statement_timeout_ms=_int(environ, "DB_STATEMENT_TIMEOUT_MS", defaults.statement_timeout_ms),
            db_pool_min_size=_int(environ, "DB_POOL_MIN_SIZE", defaults.db_pool_min_size),
            db_pool_max_size=_int(environ, "DB_POOL_MAX_SIZE", defaults.db_pool_max_size),
            rate_limit_default=environ.get("RATE_LIMIT_DEFAULT", defaults.rate_limit_default),
            rate_limit_auth=environ.get("RATE_LIMIT_AUTH", defaults.rate_limit_auth),
            cors_origins=tuple(o.strip() for o in environ.get("CORS_ORIGINS", "").split(",") if o.strip()),
            metrics_token=environ.get("METRICS_TOKEN", ""),
            response_cache=_bool(environ, "RESPONSE_CACHE", defaults.response_cache),
            webhook_allow_private=_bool(environ, "WEBHOOK_ALLOW_PRIVATE", defaults.webhook_allow_private),
        )
        settings.validate()
        return settings

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def validate(self) -> None:
        if self.is_production and len(self.jwt_secret_key) < 32:
            raise SettingsError("JWT_SECRET_KEY must be set (at least 32 characters) in production")
        if not 1 <= self.db_pool_min_size <= self.db_pool_max_size:
            raise SettingsError("need 1 <= DB_POOL_MIN_SIZE <= DB_POOL_MAX_SIZE")
        for origin in self.cors_origins:
            if not origin.startswith(("https://", "http://")) or origin.endswith("/"):
                raise SettingsError(f"CORS_ORIGINS entries look like https://app.example.com, got {origin!r}")
        from service.ratelimit import Rate

        for name, rate in (("RATE_LIMIT_DEFAULT", self.rate_limit_default), ("RATE_LIMIT_AUTH", self.rate_limit_auth)):
            try:
                Rate.parse(rate)
            except ValueError as exc:
                raise SettingsError(f"{name}: {exc}") from None
        if self.log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise SettingsError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {self.log_level!r}")
