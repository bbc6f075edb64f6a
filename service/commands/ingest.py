"""`flask ingest ...`: marketplace ingest runs."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from jobs.marketplaces import replay
from service.commands import settings as _settings

ingest_cli = AppGroup("ingest", help="Marketplace ingest runs.")


@ingest_cli.command("replay")
@click.argument("run_id", type=click.IntRange(min=1))
def ingest_replay(run_id: int) -> None:
    """Re-parse RUN_ID's stored raw payloads through the adapters and the ingest writer (idempotent)."""
    try:
        report = replay.replay_run(_settings().database_url, run_id)
    except replay.ReplayError as exc:
        raise click.ClickException(str(exc)) from exc
    written = ", ".join(f"{n} {table}" for table, n in sorted(report.result.written.items()) if n) or "nothing new"
    skipped = ", ".join(f"{n} {table}" for table, n in sorted(report.result.skipped.items()) if n) or "nothing"
    rejected = ", ".join(f"{n} {why}" for why, n in sorted(report.result.rejected.items())) or "none"
    click.echo(
        f"replayed run {run_id} as run {report.run_id} from {report.payloads} payloads: "
        f"written {written}; already there {skipped}; rejected {rejected}"
    )
