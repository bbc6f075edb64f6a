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

Every statement is built apart from being sent: `create_statements`, `index_statements`,
`policy_statements` and `refresh_statements` return what a branch sends, `sync` and `refresh` send
it. CI has only the Apache edition, where the continuous-aggregate branch cannot run, but its
statements can still be sent there: a well-formed one is refused for the license (SQLSTATE 0A000,
`... not supported under the current "apache" license`), a malformed one fails for its own reason
(an untyped NULL bound: "could not determine data type of parameter $2"). tests/core/test_rollups.py
sends each of them so.

A refresh policy keeps its job: `sync` (`flask db upgrade`) leaves an existing continuous
aggregate's policy alone while its declared header (@refresh_start_offset, @refresh_end_offset,
@schedule_interval) is what the registry recorded last time, so whatever a DBA tuned by hand stays.
When the header changed, the declared values are written onto the same job (alter_job).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterable, Sequence
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
MODES = (CONTINUOUS_AGGREGATE, MATERIALIZED_HYPERTABLE)

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


# --- the statements each branch sends -------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """One statement as a rollup branch sends it: composed SQL and its bound parameters."""

    text: sql.SQL | sql.Composed
    params: tuple[Any, ...] | None = None

    def run(self, conn: psycopg.Connection[Any]) -> None:
        conn.execute(self.text, self.params)


def create_statements(rollup: Rollup, mode: str) -> list[Statement]:
    """What creates the rollup's object in `mode` (its index aside: `index_statements`, both modes)."""
    name = sql.Identifier(rollup.name)
    # Top-level statements on an autocommit connection: continuous aggregates may not be created
    # inside functions, and this keeps both branches the same shape.
    if mode == CONTINUOUS_AGGREGATE:
        create = sql.SQL(
            "CREATE MATERIALIZED VIEW {} WITH (timescaledb.continuous, timescaledb.materialized_only = true)"
            " AS {} WITH NO DATA"
        )
        return [Statement(create.format(name, sql.SQL(rollup.select))), add_policy_statement(rollup)]
    return [
        Statement(sql.SQL("CREATE TABLE {} AS {} WITH NO DATA").format(name, sql.SQL(rollup.select))),
        Statement(
            sql.SQL("SELECT create_hypertable(%s::regclass, by_range('bucket', %s::interval))"),
            (rollup.name, rollup.chunk_interval),
        ),
    ]


def index_statements(rollup: Rollup) -> list[Statement]:
    if not rollup.index:
        return []
    columns = sql.SQL(", ").join([*map(sql.Identifier, rollup.index), sql.SQL("bucket DESC")])
    return [Statement(sql.SQL("CREATE INDEX ON {} ({})").format(sql.Identifier(rollup.name), columns))]


def drop_statement(name: str, mode: str) -> Statement:
    kind = "MATERIALIZED VIEW" if mode == CONTINUOUS_AGGREGATE else "TABLE"
    return Statement(sql.SQL("DROP {} IF EXISTS {} CASCADE").format(sql.SQL(kind), sql.Identifier(name)))


def add_policy_statement(rollup: Rollup) -> Statement:
    return Statement(
        sql.SQL(
            "SELECT add_continuous_aggregate_policy(%s::regclass, start_offset => %s::interval,"
            " end_offset => %s::interval, schedule_interval => %s::interval)"
        ),
        (rollup.name, rollup.refresh_start_offset, rollup.refresh_end_offset, rollup.schedule_interval),
    )


def alter_policy_statement(rollup: Rollup, job_id: int) -> Statement:
    """The declared window and schedule written onto an existing policy job: the job keeps its id and
    whatever else it carries (max_runtime, retries, a DBA's other settings)."""
    return Statement(
        sql.SQL(
            "SELECT alter_job(%s::integer, schedule_interval => %s::interval,"
            " config => (SELECT config FROM timescaledb_information.jobs WHERE job_id = %s::integer)"
            " || jsonb_build_object('start_offset', %s::interval, 'end_offset', %s::interval))"
        ),
        (job_id, rollup.schedule_interval, job_id, rollup.refresh_start_offset, rollup.refresh_end_offset),
    )


def policy_statements(rollup: Rollup, header_changed: bool, job_id: int | None) -> list[Statement]:
    """What `sync` sends for the refresh policy of a continuous aggregate it keeps.

    Nothing while the declared header is what was recorded last time: the policy job, its id and any
    tuning a DBA did by hand stay (a policy a DBA removed stays removed). When the header changed, the
    declared values go onto the existing job, or into a new policy when there is none.
    """
    if not header_changed:
        return []
    if job_id is None:
        return [add_policy_statement(rollup)]
    return [alter_policy_statement(rollup, job_id)]


def refresh_statements(
    name: str, mode: str, definition: str, start: datetime | None, end: datetime | None
) -> list[Statement]:
    """What recomputes the buckets in [start, end), bounds already aligned to whole buckets (None = unbounded).

    The materialized hypertable's statements must run in one transaction; the continuous
    aggregate's CALL outside any transaction block.
    """
    if mode == CONTINUOUS_AGGREGATE:
        # refresh_continuous_aggregate declares its bounds "any": an untyped parameter (psycopg sends
        # None untyped) fails with "could not determine data type of parameter", so both are cast.
        return [
            Statement(
                sql.SQL("CALL refresh_continuous_aggregate(%s::regclass, %s::timestamptz, %s::timestamptz)"),
                (name, start, end),
            )
        ]
    # Literals rather than parameters: the SELECT is arbitrary text and may contain '%'.
    bounds = sql.SQL("bucket >= {} AND bucket < {}").format(
        sql.Literal(start or "-infinity"), sql.Literal(end or "infinity")
    )
    table = sql.Identifier(name)
    return [
        # Refreshes of one rollup take turns, so each DELETE sees the rows the last INSERT committed:
        # two at once (the pipeline and an admin's recompute) would otherwise double every bucket.
        Statement(sql.SQL("SELECT pg_advisory_xact_lock(hashtext({}))").format(sql.Literal(f"rollup-refresh:{name}"))),
        Statement(sql.SQL("DELETE FROM {} WHERE {}").format(table, bounds)),
        Statement(
            sql.SQL("INSERT INTO {} SELECT * FROM ({}) AS fresh WHERE {}").format(table, sql.SQL(definition), bounds)
        ),
    ]


# --- sending them ---------------------------------------------------------------------------------


def _run(conn: psycopg.Connection[Any], statements: Iterable[Statement]) -> None:
    for statement in statements:
        statement.run(conn)


def _value(conn: psycopg.Connection[Any], statement: str, params: Any = None) -> Any:
    row = conn.cursor(row_factory=psycopg.rows.tuple_row).execute(statement, params).fetchone()
    return row[0] if row else None


def _rows(conn: psycopg.Connection[Any], name: str, params: Any = None) -> list[dict[str, Any]]:
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    return cur.execute(query(name), params).fetchall()


def policy_job(conn: psycopg.Connection[Any], name: str) -> int | None:
    """The id of the refresh policy job of continuous aggregate `name`, if it has one."""
    job_id: int | None = _value(conn, query("rollups/policy_job"), {"name": name})
    return job_id


def _policy_header_changed(conn: psycopg.Connection[Any], rollup: Rollup) -> bool:
    return bool(
        _value(
            conn,
            query("rollups/policy_header_changed"),
            {
                "name": rollup.name,
                "refresh_start_offset": rollup.refresh_start_offset,
                "refresh_end_offset": rollup.refresh_end_offset,
                "schedule_interval": rollup.schedule_interval,
            },
        )
    )


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
    conn: psycopg.Connection[Any],
    rollups: Sequence[Rollup],
    progress: Callable[[str], None] = log.info,
    *,
    mode: str | None = None,
) -> list[str]:
    """Create, re-create or drop rollup objects to match the declarations, then fill new ones.

    Every step is idempotent, so a run interrupted anywhere is completed by the next one (the
    registry row is written after the statements it records). `conn` must be in autocommit mode.
    `mode` builds the rollups in that mode instead of the one this server's license calls for (on a
    licensed server, tests build the Apache branch too, to compare the two). Returns the names of
    the rollups (re)created.
    """
    if not conn.autocommit:
        raise RollupError("rollups.sync needs an autocommit connection")
    if mode is not None and mode not in MODES:
        raise RollupError(f"unknown rollup mode {mode!r}")
    if not rollups and not _value(conn, "SELECT to_regclass('rollup_definitions') IS NOT NULL"):
        return []  # a schema without the rollup registry declares no rollups
    mode = mode or server_mode(conn)
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
                drop_statement(rollup.name, current["mode"]).run(conn)
            drop_statement(rollup.name, mode).run(conn)  # left behind by an interrupted run
            _run(conn, [*create_statements(rollup, mode), *index_statements(rollup)])
            _register(conn, rollup, mode, needs_refresh=True)
            changed.append(rollup.name)
            continue
        if mode == CONTINUOUS_AGGREGATE:
            statements = policy_statements(rollup, _policy_header_changed(conn, rollup), policy_job(conn, rollup.name))
            if statements:
                progress(f"applying the declared refresh policy of rollup {rollup.name}")
            _run(conn, statements)
        _register(conn, rollup, mode, needs_refresh=False)
    declared_names = {r.name for r in rollups}
    for name, row in stored.items():
        if name not in declared_names:
            progress(f"dropping rollup {name}: no longer declared")
            drop_statement(name, row["mode"]).run(conn)
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
    statements = refresh_statements(name, window["mode"], window["definition"], lo, hi)
    if window["mode"] == CONTINUOUS_AGGREGATE:
        _run(conn, statements)
        return
    with conn.transaction():
        _run(conn, statements)


def refresh_policy_window(conn: psycopg.Connection[Any], rollup: Rollup, now: datetime) -> None:
    """What a continuous aggregate's refresh policy does, for servers without policies."""
    start = _value(conn, "SELECT %s::timestamptz - %s::interval", [now, rollup.refresh_start_offset])
    end = _value(conn, "SELECT %s::timestamptz - %s::interval", [now, rollup.refresh_end_offset])
    refresh(conn, rollup.name, start, end)
