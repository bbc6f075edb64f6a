"""Access to the per-app resources (database pool, Redis client) from request or CLI context."""

from __future__ import annotations

import redis
from flask import current_app

from service.core.db import Database


def database() -> Database:
    db: Database = current_app.extensions["boxpro.db"]
    return db


def redis_client() -> redis.Redis:
    client: redis.Redis = current_app.extensions["boxpro.redis"]
    return client
