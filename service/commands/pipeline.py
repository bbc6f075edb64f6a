"""`flask pipeline ...`: rollups, daily metrics, ranks and the market index."""

from __future__ import annotations

from datetime import UTC, datetime

import click
import psycopg
from flask.cli import AppGroup

from jobs import pipeline
from service.commands import settings as _settings
from service.core import rollups
from service.core.sql import query
from service.extensions import redis_client

pipeline_cli = AppGroup("pipeline", help="Rollups, daily metrics, ranks and the market index.")


def _run_pipeline(start: datetime | None, end: datetime | None, *, resummarise: bool) -> None:
    settings = _settings()
    with psycopg.connect(settings.database_url) as conn:
        span = pipeline.observed_span(conn)
        last_computed = conn.execute(query("pipeline/last_computed_day")).fetchone()
    if span is None:
        raise click.ClickException("no observations yet: run `flask sim backfill` or ingest data first")
    # `run` catches up from the last computed day; `recompute` starts from the first observation.
    resume_day = last_computed[0] if last_computed and last_computed[0] and not resummarise else None
    first = start.date() if start else (resume_day or span[0])
    last = end.date() if end else max(span[1], datetime.now(UTC).date())
    if first > last:
        raise click.BadParameter(f"--from {first} is after --to {last}", param_hint="--from")
    stages = [f"rollup:{r.name}" for r in rollups.declared(settings.sql_dir)] + ["metrics", "ranks", "market_index"]
    with click.progressbar(length=len(stages) + resummarise, label=f"pipeline {first}..{last}") as bar:
        report = pipeline.run(
            settings.database_url,
            first,
            last,
            redis_client=redis_client(),
            resummarise=resummarise,
            progress=lambda _stage: bar.update(1),
        )
    for name, seconds in report.seconds.items():
        rows = f" ({report.rows[name]} rows)" if name in report.rows else ""
        click.echo(f"{name:<28} {seconds:8.3f} s{rows}")
    click.echo(f"data version {report.data_version}")


FROM_DAY = click.option(
    "--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First day (default: first observed)"
)
TO_DAY = click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Last day (default: today, UTC)")


@pipeline_cli.command("run")
@FROM_DAY
@TO_DAY
def pipeline_run(start: datetime | None, end: datetime | None) -> None:
    """Refresh rollups, then compute metrics, ranks and the index for the days [--from, --to]."""
    _run_pipeline(start, end, resummarise=False)


@pipeline_cli.command("recompute")
@FROM_DAY
@TO_DAY
def pipeline_recompute(start: datetime | None, end: datetime | None) -> None:
    """As `run`, after re-summarising snapshots: use after changing settings."""
    _run_pipeline(start, end, resummarise=True)
