"""License-aware rollups: one definition, two implementations, the same name and the same results.

A rollup is declared once, as a file sql/rollups/<name>.sql holding one SELECT that groups by
`time_bucket(...) AS bucket`, with its settings in `-- @key value` header lines:

    -- @bucket_width 1 day            (required; must match the time_bucket in the SELECT)
    -- @refresh_start_offset 7 days   (refresh policy window, as in add_continuous_aggregate_policy)
    -- @refresh_end_offset 1 hour
    -- @schedule_interval 1 hour
    -- @chunk_interval 30 days        (materialized hypertable only)
    -- @index product_id, marketplace (an index on these columns, then bucket)

On a server with the Timescale License the rollup is a continuous aggregate (materialized only, so
it never mixes in raw rows at query time) with a refresh policy. On the Apache-2 edition, which has
no continuous aggregates, it is a hypertable filled by recomputing exactly the buckets of a window.
Either way the pipeline calls `refresh(conn, name, start, end)` for the window it touched.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from service.core.sql import query

log = logging.getLogger(__name__)

CONTINUOUS_AGGREGATE = "continuous_aggregate"
MATERIALIZED_HYPERTABLE = "materialized_hypertable"

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_HEADER = re.compile(r"^--\s*@(\w+)\s+(.+?)\s*$")
_KEYS = {
    "bucket_width",
    "refresh_start_offset",
    "refresh_end_offset",
    "schedule_interval",
    "chunk_interval",
    "index",
}


class RollupError(ValueError):
    pass


@dataclass(frozen=True)
class Rollup:
    name: str
    select: str
    bucket_width: str
    refresh_start_offset: str = "3 days"
    refresh_end_offset: str = "0 seconds"
    schedule_interval: str = "1 hour"
    chunk_interval: str = "30 days"
    index: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for identifier in (self.name, *self.index):
            if not _NAME.match(identifier):
                raise RollupError(f"rollup {self.name!r}: {identifier!r} is not a plain lower-case identifier")
        if not re.search(r"\bas\s+bucket\b", self.select, re.IGNORECASE):
            raise RollupError(f"rollup {self.name!r}: the SELECT must name its time_bucket column `bucket`")

    @property
    def checksum(self) -> str:
        """What, if changed, requires re-creating the object (the policy can change in place)."""
        shape = "\0".join([self.select, self.bucket_width, self.chunk_interval, ",".join(self.index)])
        return hashlib.sha256(shape.encode()).hexdigest()

    @classmethod
    def from_file(cls, path: Path) -> Rollup:
        settings: dict[str, Any] = {}
        for line in path.read_text().splitlines():
            match = _HEADER.match(line)
            if not match:
                continue
            key, value = match.groups()
            if key not in _KEYS:
                raise RollupError(f"{path.name}: unknown setting @{key}")
            settings[key] = tuple(c.strip() for c in value.split(",")) if key == "index" else value
        if "bucket_width" not in settings:
            raise RollupError(f"{path.name}: missing the required `-- @bucket_width` line")
        select = "\n".join(line for line in path.read_text().splitlines() if not _HEADER.match(line)).strip()
        return cls(name=path.stem, select=select.rstrip(";"), **settings)


def declared(sql_dir: Path) -> list[Rollup]:
    return [Rollup.from_file(path) for path in sorted((sql_dir / "rollups").glob("*.sql"))]


def server_mode(conn: psycopg.Connection[Any]) -> str:
    return mode_for_license(_value(conn, query("rollups/license")))


def mode_for_license(license_: str | None) -> str:
    return CONTINUOUS_AGGREGATE if license_ == "timescale" else MATERIALIZED_HYPERTABLE


def _value(conn: psycopg.Connection[Any], statement: str, params: Any = None) -> Any:
    row = conn.cursor(row_factory=psycopg.rows.tuple_row).execute(statement, params).fetchone()
    return row[0] if row else None


def _rows(conn: psycopg.Connection[Any], name: str, params: Any = None) -> list[dict[str, Any]]:
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    return cur.execute(query(name), params).fetchall()


def _drop(conn: psycopg.Connection[Any], name: str, mode: str) -> None:
    kind = "MATERIALIZED VIEW" if mode == CONTINUOUS_AGGREGATE else "TABLE"
    conn.execute(sql.SQL("DROP {} IF EXISTS {} CASCADE").format(sql.SQL(kind), sql.Identifier(name)))


def _set_policy(conn: psycopg.Connection[Any], rollup: Rollup) -> None:
    conn.execute("SELECT remove_continuous_aggregate_policy(%s::regclass, if_exists => true)", [rollup.name])
    conn.execute(
        "SELECT add_continuous_aggregate_policy(%s::regclass, start_offset => %s::interval,"
        " end_offset => %s::interval, schedule_interval => %s::interval)",
        [rollup.name, rollup.refresh_start_offset, rollup.refresh_end_offset, rollup.schedule_interval],
    )


def _create(conn: psycopg.Connection[Any], rollup: Rollup, mode: str) -> None:
    # Top-level statements on an autocommit connection: continuous aggregates may not be created
    # inside functions, and this keeps both branches the same shape.
    name = sql.Identifier(rollup.name)
    if mode == CONTINUOUS_AGGREGATE:
        conn.execute(
            sql.SQL(
                "CREATE MATERIALIZED VIEW {} WITH (timescaledb.continuous, timescaledb.materialized_only = true)"
                " AS {} WITH NO DATA"
            ).format(name, sql.SQL(rollup.select))
        )
        _set_policy(conn, rollup)
    else:
        conn.execute(sql.SQL("CREATE TABLE {} AS {} WITH NO DATA").format(name, sql.SQL(rollup.select)))
        conn.execute(
            "SELECT create_hypertable(%s::regclass, by_range('bucket', %s::interval))",
            [rollup.name, rollup.chunk_interval],
        )
    if rollup.index:
        columns = sql.SQL(", ").join([*map(sql.Identifier, rollup.index), sql.SQL("bucket DESC")])
        conn.execute(sql.SQL("CREATE INDEX ON {} ({})").format(name, columns))


def _register(conn: psycopg.Connection[Any], rollup: Rollup, mode: str, needs_refresh: bool) -> None:
    conn.execute(
        query("rollups/register"),
        {
            "name": rollup.name,
            "mode": mode,
            "bucket_width": rollup.bucket_width,
            "definition": rollup.select,
            "checksum": rollup.checksum,
            "refresh_start_offset": rollup.refresh_start_offset,
            "refresh_end_offset": rollup.refresh_end_offset,
            "schedule_interval": rollup.schedule_interval,
            "needs_refresh": needs_refresh,
        },
    )


def sync(
    conn: psycopg.Connection[Any], rollups: Sequence[Rollup], progress: Callable[[str], None] = log.info
) -> list[str]:
    """Create, re-create or drop rollup objects to match the declarations, then fill new ones.

    Every step is idempotent, so a run interrupted anywhere is completed by the next one.
    `conn` must be in autocommit mode. Returns the names of the rollups (re)created.
    """
    if not conn.autocommit:
        raise RollupError("rollups.sync needs an autocommit connection")
    if not rollups and not _value(conn, "SELECT to_regclass('rollup_definitions') IS NOT NULL"):
        return []  # a schema without the rollup registry declares no rollups
    mode = server_mode(conn)
    stored = {row["name"]: row for row in _rows(conn, "rollups/definitions")}
    changed: list[str] = []
    for rollup in rollups:
        window = {
            "start_offset": rollup.refresh_start_offset,
            "end_offset": rollup.refresh_end_offset,
            "bucket_width": rollup.bucket_width,
        }
        if not _value(conn, query("rollups/policy_is_valid"), window):
            raise RollupError(f"rollup {rollup.name}: the refresh window must span at least two buckets")
        current = stored.get(rollup.name)
        if current is None or current["checksum"] != rollup.checksum or current["mode"] != mode:
            progress(f"creating rollup {rollup.name} as a {mode.replace('_', ' ')}")
            if current is not None:
                _drop(conn, rollup.name, current["mode"])
            _drop(conn, rollup.name, mode)  # left behind by an interrupted run
            _create(conn, rollup, mode)
            _register(conn, rollup, mode, needs_refresh=True)
            changed.append(rollup.name)
        else:
            if mode == CONTINUOUS_AGGREGATE:
                _set_policy(conn, rollup)
            _register(conn, rollup, mode, needs_refresh=False)
    declared_names = {r.name for r in rollups}
    for name, row in stored.items():
        if name not in declared_names:
            progress(f"dropping rollup {name}: no longer declared")
            _drop(conn, name, row["mode"])
            conn.execute(query("rollups/unregister"), {"name": name})
    unfilled = {row["name"] for row in _rows(conn, "rollups/definitions") if row["needs_refresh"]}
    for rollup in rollups:
        if rollup.name in unfilled:
            progress(f"filling rollup {rollup.name}")
            refresh(conn, rollup.name, None, None)
            conn.execute(query("rollups/mark_refreshed"), {"name": rollup.name})
    return changed


def refresh(conn: psycopg.Connection[Any], name: str, start: datetime | None, end: datetime | None) -> None:
    """Recompute the buckets of `name` that lie wholly inside [start, end) (None = unbounded).

    `conn` must be in autocommit mode with no transaction open: refresh_continuous_aggregate
    cannot run inside a transaction block.
    """
    if not conn.autocommit:
        raise RollupError("rollups.refresh needs an autocommit connection")
    rows = _rows(conn, "rollups/window", {"name": name, "start": start, "end": end})
    if not rows:
        raise RollupError(f"no rollup named {name!r}")
    window = rows[0]
    lo, hi = window["window_start"], window["window_end"]
    if lo is not None and hi is not None and lo >= hi:
        return  # the window holds no whole bucket
    if window["mode"] == CONTINUOUS_AGGREGATE:
        # refresh_continuous_aggregate declares its bounds "any": an untyped parameter (psycopg sends
        # None untyped) fails with "could not determine data type of parameter", so both are cast.
        conn.execute(
            "CALL refresh_continuous_aggregate(%s::regclass, %s::timestamptz, %s::timestamptz)", [name, lo, hi]
        )
        return
    # Literals rather than parameters: the SELECT is arbitrary text and may contain '%'.
    bounds = sql.SQL("bucket >= {} AND bucket < {}").format(
        sql.Literal(lo or "-infinity"), sql.Literal(hi or "infinity")
    )
    with conn.transaction():
        conn.execute(sql.SQL("DELETE FROM {} WHERE {}").format(sql.Identifier(name), bounds))
        conn.execute(
            sql.SQL("INSERT INTO {} SELECT * FROM ({}) AS fresh WHERE {}").format(
                sql.Identifier(name), sql.SQL(window["definition"]), bounds
            )
        )


def refresh_policy_window(conn: psycopg.Connection[Any], rollup: Rollup, now: datetime) -> None:
    """What a continuous aggregate's refresh policy does, for servers without policies."""
    start = _value(conn, "SELECT %s::timestamptz - %s::interval", [now, rollup.refresh_start_offset])
    end = _value(conn, "SELECT %s::timestamptz - %s::interval", [now, rollup.refresh_end_offset])
    refresh(conn, rollup.name, start, end)
