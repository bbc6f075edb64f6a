"""Replay: re-parse a run's stored raw payloads through the adapters' own parsers and the ingest
writer. Idempotent like any ingest: snapshots already registered are skipped, sales and price points
have natural keys. Useful after a parser or filter fix, or to rebuild observations from payloads.

Each payload names its kind (`context.kind`, e.g. `ebay.browse`); the registry says which adapter
replays which kinds, and each adapter gets its own answered payloads of the run, in the order they
were fetched, with its current settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from jobs.marketplaces import registry
from jobs.marketplaces.base import Adapter, Payload, ReplayReport
from service.core.ingest import writer
from service.core.settings import Env
from service.core.sql import query


class ReplayError(ValueError):
    """The run cannot be replayed (unknown, still running, or with no stored payloads)."""


def replay_run(conninfo: str, run_id: int, env: Env | None = None) -> ReplayReport:
    """Replay run `run_id` as a new ingest run of kind `replay`; `env` (by default the process's
    environment) holds the adapters' settings."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        run = cur.execute(query("marketplaces/run"), {"run_id": run_id}).fetchone()
        if run is None:
            raise ReplayError(f"no ingest run {run_id}")
        if run["status"] == "running":
            raise ReplayError(f"run {run_id} is still running")
        payloads = cur.execute(query("marketplaces/run_payloads"), {"run_id": run_id}).fetchall()
        if not payloads:
            # Nothing to re-parse: an empty `replay` run would only look like a replay that found nothing.
            raise ReplayError(
                f"run {run_id} ({run['kind']}) stored no marketplace payloads to replay: only marketplace "
                "fetches store them (the simulated market and imports write observations directly), and "
                "they are kept raw_payload_retention_days (docs/DBA.md)"
            )
        new_run = writer.start_run(conn, "replay", marketplace=run["marketplace"], product_ids=run["product_ids"])
        report = ReplayReport(run_id=new_run, replay_of=run_id, payloads=len(payloads))
        try:
            _replay(conn, env or Env.load(), payloads, report)
        except Exception as exc:
            writer.finish_run(conn, new_run, report.result, status="failed", error=f"{type(exc).__name__}: {exc}")
            raise
        finally:
            conn.execute(
                query("marketplaces/finish_run_http"), {"run_id": new_run, "http_errors": 0, "replay_of": run_id}
            )
        writer.finish_run(conn, new_run, report.result)
    return report


def _replay(conn: psycopg.Connection[Any], env: Env, payloads: Sequence[Payload], report: ReplayReport) -> None:
    own: dict[str, tuple[Adapter[Any], list[Payload]]] = {}
    for payload in payloads:
        body = payload["body"]
        if payload["status"] != 200 or not isinstance(body, dict) or "raw" in body:
            continue  # failed calls and bodies that were not JSON
        adapter = registry.replayer((payload["context"] or {}).get("kind"))
        if adapter is not None:
            own.setdefault(adapter.code, (adapter, []))[1].append(payload)
    for adapter, mine in own.values():
        adapter.replay(conn, adapter.read_config(env), mine, report)
