"""`flask ingest ...`: marketplace ingest runs."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from jobs.marketplaces import replay
from service.commands import settings as _settings
from service.core import circuits, recompute
from service.extensions import redis_client

ingest_cli = AppGroup("ingest", help="Marketplace ingest runs.")


@ingest_cli.command("replay")
@click.argument("run_id", type=click.IntRange(min=1))
def ingest_replay(run_id: int) -> None:
    """Re-parse RUN_ID's stored raw payloads through the adapters and the ingest writer (idempotent)."""
    try:
        report = replay.replay_run(_settings().database_url, run_id)
    except replay.ReplayError as exc:
        raise click.ClickException(str(exc)) from exc
    if any(report.result.written.values()):  # the writer asked for their days: queue the pipeline
        recompute.request_run(redis_client(), _settings().pipeline_debounce_s)
    written = ", ".join(f"{n} {table}" for table, n in sorted(report.result.written.items()) if n) or "nothing new"
    skipped = ", ".join(f"{n} {table}" for table, n in sorted(report.result.skipped.items()) if n) or "nothing"
    rejected = ", ".join(f"{n} {why}" for why, n in sorted(report.result.rejected.items())) or "none"
    click.echo(
        f"replayed run {run_id} as run {report.run_id} from {report.payloads} payloads: "
        f"written {written}; already there {skipped}; rejected {rejected}"
    )


@ingest_cli.command("status")
def ingest_status() -> None:
    """Marketplace quota circuits and call counters (from Redis)."""
    report = circuits.overview(redis_client())
    if not report:
        click.echo("no marketplace calls recorded yet")
    for name, fields in report.items():
        counters = ", ".join(f"{k} {v}" for k, v in fields.items() if k != "circuit")
        click.echo(f"{name:<16} circuit {fields['circuit']}" + (f"; {counters}" if counters else ""))
