"""Demo or live: which data a database holds, and the guard that keeps the two from ever mixing.

- demo: the simulated market (`make run`'s default): simulated marketplaces feed the metrics.
- live: real marketplaces only. No simulated source, observation or sim-tick exists in a live
  database: the ingest writer refuses simulated marketplaces there, the simulator's commands and jobs
  refuse to run, and the catalog loader adds no simulated sources.

The process setting is DATA_MODE; the database remembers its own mode (table data_mode), and
`reconcile` (run by `flask db upgrade`) makes the two agree or stops with what to do. A demo database
becomes live with `go_live`, which deletes every simulated row; nothing turns a live database back.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Literal

import psycopg

from service.core.sql import query

log = logging.getLogger(__name__)

Mode = Literal["demo", "live"]
DEMO: Mode = "demo"
LIVE: Mode = "live"
MODES = (DEMO, LIVE)


class DataModeError(RuntimeError):
    """The database's mode forbids this, or disagrees with the process's DATA_MODE."""


def current(conn: psycopg.Connection[Any]) -> Mode:
    row = conn.cursor(row_factory=psycopg.rows.tuple_row).execute(query("data_mode/current")).fetchone()
    return LIVE if row and row[0] == LIVE else DEMO


def simulated_rows(conn: psycopg.Connection[Any]) -> int:
    """Observations, sources and simulator state that come from the simulated market."""
    row = conn.cursor(row_factory=psycopg.rows.tuple_row).execute(query("data_mode/simulated_rows")).fetchone()
    return int(row[0]) if row else 0


def mismatch(mode: str, wanted: str) -> str:
    """What to do when the database's mode is not DATA_MODE (`/health/ready`, `flask db upgrade`)."""
    if mode == LIVE:
        return (
            "This database is live (real marketplace data only) and never returns to demo: simulated data "
            "would mix with real numbers. Set DATA_MODE=live, or point DATA_MODE=demo at another database."
        )
    return (
        f"DATA_MODE={wanted}, but this database is in demo mode (the simulated market). Run "
        "`flask --app service.app data go-live` to delete the simulated data and recompute (`flask "
        "--app service.app db upgrade` suffices while it holds none), or set DATA_MODE=demo."
    )


def reconcile(conn: psycopg.Connection[Any], wanted: str) -> Mode:
    """Make the database's mode the configured one where that is safe, else say what to do.
    A database without simulated data takes DATA_MODE=live at once (a fresh production database)."""
    mode = current(conn)
    if mode == wanted:
        return mode
    if mode == LIVE:
        raise DataModeError(mismatch(mode, wanted))
    if simulated_rows(conn):
        raise DataModeError(
            "DATA_MODE=live, but this database holds the simulated market (demo mode). Run "
            "`flask --app service.app data go-live` to delete the simulated data and recompute, "
            "or set DATA_MODE=demo."
        )
    _set(conn, LIVE)
    log.info("database is now live (it held no simulated data)")
    return LIVE


def go_live_rows(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """What `go_live` would delete now, table by table: its own statements, counting instead of deleting
    (so the question `data go-live` asks names exactly what the answer deletes)."""
    counted: dict[str, int] = {}
    for name, statement in _statements("data_mode/go_live"):
        counting = re.sub(r"^DELETE FROM", "SELECT count(*) FROM", statement)
        row = conn.cursor(row_factory=psycopg.rows.tuple_row).execute(counting).fetchone()
        counted[name] = int(row[0]) if row else 0
    return counted


def go_live(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Delete every simulated row (observations, their listing events and inferred sales, sources, the
    simulator's state and runs) and every computed metric, rank and index row (they were computed from
    the simulation), and make the database live: in one transaction. Recompute afterwards."""
    deleted: dict[str, int] = {}
    with conn.transaction():
        conn.execute(query("data_mode/lock"))
        for name, statement in _statements("data_mode/go_live"):
            deleted[name] = conn.execute(statement).rowcount
        _set(conn, LIVE)
    log.info("database is now live: simulated data deleted", extra={"deleted": deleted})
    return deleted


def require_demo(conn: psycopg.Connection[Any], what: str) -> None:
    """The simulator's entry points: refuse in a live database, with a clear reason."""
    if current(conn) == LIVE:
        raise DataModeError(f"{what}: this database is live (real marketplace data only); the simulated market is off")


def check_marketplace(conn: psycopg.Connection[Any], marketplace: str) -> None:
    """Every write of observations passes here: a live database takes no simulated marketplace."""
    row = (
        conn.cursor(row_factory=psycopg.rows.tuple_row)
        .execute(query("data_mode/simulated_in_live"), {"marketplace": marketplace})
        .fetchone()
    )
    if row and row[0]:
        raise DataModeError(f"{marketplace} is a simulated marketplace, and this database is live")


def _set(conn: psycopg.Connection[Any], mode: Mode) -> None:
    conn.execute(query("data_mode/set"), {"mode": mode})


def _statements(name: str) -> list[tuple[str, str]]:
    """The statements of a multi-statement .sql file, each under the name of its `-- name:` line."""
    found: list[tuple[str, str]] = []
    for block in query(name).split("-- name: ")[1:]:
        label, _, body = block.partition("\n")
        found.append((label.strip(), body.strip()))
    return found
