"""Configuration: one `Settings`, read once from the environment (and `.env` in development) and
validated at start, so a bad value stops the process with the variable named instead of failing later.

Marketplace adapters read their own section from the same `Env` (`settings.env`); `env.py` has the
typed readers, and every variable read anywhere is listed in `.env.example`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.core.settings.env import PROJECT_ROOT, Env, SettingsError
from service.core.settings.mail import MailSettings

__all__ = ["PROJECT_ROOT", "Env", "MailSettings", "Rate", "Settings", "SettingsError"]

UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^(\d+)/(second|minute|hour|day)$")
LOG_LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR"}
ENVS = {"development", "test", "benchmark", "production"}


@dataclass(frozen=True)
class Rate:
    amount: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        """'300/minute' (per second, minute, hour or day)."""
        match = _RATE.match(text.strip())
        if not match or int(match.group(1)) < 1:
            raise ValueError(f"a rate looks like 300/minute, got {text!r}")
        return cls(int(match.group(1)), UNITS[match.group(2)])


@dataclass(frozen=True)
class Settings:
    database_url: str = "postgresql://postgres@127.0.0.1:55432/boxpro"
    redis_url: str = "redis://127.0.0.1:56379/0"
    environment: str = "development"
    # demo: the simulated market; live: real marketplaces only (service/core/data_mode.py).
    data_mode: str = "demo"
    # How long a write's pipeline request waits for more writes to join it (service/core/recompute.py).
    pipeline_debounce_s: float = 30.0
    # A failed marketplace fetch job runs again after these pauses (RQ Retry; a killed worker's job too).
    fetch_retry_s: tuple[int, ...] = (30, 120, 600)
    log_level: str = "INFO"
    jwt_secret_key: str = field(default="", repr=False)
    statement_timeout_ms: int = 15_000
    db_pool_min_size: int = 1
    db_pool_max_size: int = 8
    db_connect_timeout_s: int = 5
    # How long a request waits for a database connection before answering 503.
    db_pool_timeout_s: float = 5.0
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
    # Box images (jobs/images.py): downloaded from public https hosts only, unless this is set (tests,
    # private deployments); at most this many bytes, within this many seconds per download.
    image_allow_private: bool = False
    image_max_bytes: int = 2 * 1024 * 1024
    image_timeout_s: float = 10.0
    # When set, GET /metrics wants it as a bearer token (Prometheus' `authorization` setting).
    metrics_token: str = field(default="", repr=False)
    # E-mail (verification, password reset, alerts) and the links in it (settings/mail.py).
    mail: MailSettings = field(default_factory=MailSettings)
    migrations_dir: Path = PROJECT_ROOT / "migrations"
    sql_dir: Path = PROJECT_ROOT / "sql"
    # The environment these settings were read from, for the sections other modules read (marketplaces).
    env: Env = field(default_factory=lambda: Env({}), repr=False, compare=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from the process environment over the project's .env file (or from `environ`)."""
        env = Env.load() if environ is None else Env(environ)
        with env.collecting():
            return cls.read(env)

    @classmethod
    def read(cls, env: Env) -> Settings:
        d = cls()
        env.section("Services")
        services: dict[str, Any] = {
            "database_url": env.text("DATABASE_URL", d.database_url, "PostgreSQL with TimescaleDB"),
            "redis_url": env.text("REDIS_URL", d.redis_url, "Redis: queues, cache, rate limits, tokens"),
            "environment": env.text("BOXPRO_ENV", d.environment, "production requires JWT_SECRET_KEY", choices=ENVS),
            "data_mode": env.text(
                "DATA_MODE",
                d.data_mode,
                "demo: the simulated market; live: real marketplaces only (docs/DEPLOY.md, `flask data go-live`)",
                choices={"demo", "live"},
            ),
            "pipeline_debounce_s": env.number(
                "PIPELINE_DEBOUNCE_S", d.pipeline_debounce_s, "the pipeline starts this long after a write asks for it"
            ),
            "fetch_retry_s": _seconds_list(
                env,
                "FETCH_RETRY_S",
                d.fetch_retry_s,
                "a failed marketplace fetch job runs again after each of these pauses, s",
            ),
            "log_level": env.text("LOG_LEVEL", d.log_level, "DEBUG, INFO, WARNING or ERROR").upper(),
            "statement_timeout_ms": env.integer(
                "DB_STATEMENT_TIMEOUT_MS", d.statement_timeout_ms, "the API's statement timeout", minimum=1
            ),
            "db_pool_min_size": env.integer(
                "DB_POOL_MIN_SIZE", d.db_pool_min_size, "connections kept per pool of an API process (two pools)"
            ),
            "db_pool_max_size": env.integer(
                "DB_POOL_MAX_SIZE", d.db_pool_max_size, "connections at most per pool of an API process (two pools)"
            ),
            "db_pool_timeout_s": env.number(
                "DB_POOL_TIMEOUT_S", d.db_pool_timeout_s, "a request waits this long for a connection, then 503"
            ),
        }
        env.section("API")
        api: dict[str, Any] = {
            "jwt_secret_key": env.text(
                "JWT_SECRET_KEY",
                "",
                "at least 32 random characters: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
                " (`make run` keeps one in .var/ when unset)",
                secret=True,
            ),
            "rate_limit_default": env.text(
                "RATE_LIMIT_DEFAULT", d.rate_limit_default, "per account or client IP, shared through Redis"
            ),
            "rate_limit_auth": env.text("RATE_LIMIT_AUTH", d.rate_limit_auth, "login and register, per client IP"),
            "cors_origins": env.csv(
                "CORS_ORIGINS", d.cors_origins, "comma-separated, e.g. https://app.example.com,https://m.example.com"
            ),
            "response_cache": env.flag(
                "RESPONSE_CACHE", d.response_cache, "false: cached endpoints always answer from the database"
            ),
            "metrics_token": env.text(
                "METRICS_TOKEN", "", "when set, GET /metrics wants it as a bearer token", secret=True
            ),
            "webhook_allow_private": env.flag(
                "WEBHOOK_ALLOW_PRIVATE",
                d.webhook_allow_private,
                "true: webhooks may go to private addresses (tests, private deployments)",
            ),
        }
        env.section("Box images")
        images: dict[str, Any] = {
            "image_allow_private": env.flag(
                "IMAGE_ALLOW_PRIVATE",
                d.image_allow_private,
                "true: box images may come over http and from private addresses (tests, private deployments)",
            ),
            "image_max_bytes": env.integer(
                "IMAGE_MAX_BYTES", d.image_max_bytes, "a larger box image is refused", minimum=1024
            ),
            "image_timeout_s": env.number(
                "IMAGE_TIMEOUT_S", d.image_timeout_s, "a box image download gives up after this long", minimum=0.1
            ),
        }
        mail = MailSettings.read(env, production=services["environment"] == "production")
        settings = cls(**services, **api, **images, mail=mail, env=env)
        for problem in settings.problems():
            env.fail(problem, None)
        return settings

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def problems(self) -> list[str]:
        """What is wrong with values that are each well-formed but do not go together."""
        found = []
        if self.is_production and len(self.jwt_secret_key) < 32:
            found.append("JWT_SECRET_KEY must be set (at least 32 characters) in production")
        if not 1 <= self.db_pool_min_size <= self.db_pool_max_size:
            found.append("need 1 <= DB_POOL_MIN_SIZE <= DB_POOL_MAX_SIZE")
        found += [
            f"CORS_ORIGINS entries look like https://app.example.com, got {origin!r}"
            for origin in self.cors_origins
            if not origin.startswith(("https://", "http://")) or origin.endswith("/")
        ]
        for name, rate in (
            ("RATE_LIMIT_DEFAULT", self.rate_limit_default),
            ("RATE_LIMIT_AUTH", self.rate_limit_auth),
            ("RATE_LIMIT_PASSWORD_RESET", self.mail.rate_limit_password_reset),
        ):
            try:
                Rate.parse(rate)
            except ValueError as exc:
                found.append(f"{name}: {exc}")
        if self.log_level not in LOG_LEVELS:
            found.append(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {self.log_level!r}")
        return found


def _seconds_list(env: Env, name: str, default: tuple[int, ...], help: str) -> tuple[int, ...]:
    values = env.csv(name, tuple(map(str, default)), help)
    try:
        seconds = tuple(int(value) for value in values)
    except ValueError:
        return env.fail(f"{name} must be whole seconds separated by commas, got {','.join(values)!r}", default)
    if any(value < 0 for value in seconds):
        return env.fail(f"{name} must not be negative, got {','.join(values)!r}", default)
    return seconds
