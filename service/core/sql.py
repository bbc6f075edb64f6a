"""Named SQL: every query lives in sql/queries/<domain>/<name>.sql and is loaded by name."""

from __future__ import annotations

import re
from functools import cache

from psycopg import sql

from service.core.settings import PROJECT_ROOT

QUERIES_DIR = PROJECT_ROOT / "sql" / "queries"
_VALID_NAME = re.compile(r"^[a-z0-9_]+(/[a-z0-9_]+)*$")


@cache
def query(name: str) -> str:
    """The text of sql/queries/<name>.sql, e.g. query("health/timescaledb")."""
    if not _VALID_NAME.match(name):
        raise ValueError(f"bad query name {name!r}")
    return (QUERIES_DIR / f"{name}.sql").read_text()


def rendered(statement: sql.Composable) -> sql.SQL:
    """A composed statement rendered to its text, once: psycopg renders a Composed again on every
    execution, and the same text each time lets a prepared statement be reused. Only for statements
    composed of whitelisted SQL (identifiers, literals, fixed fragments): values stay parameters."""
    return sql.SQL(statement.as_string())
