"""`flask jobs ...`: the rq-scheduler schedule and RQ jobs."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from rq import Queue
from rq_scheduler import Scheduler

from jobs import schedule
from service.extensions import redis_client

jobs_cli = AppGroup("jobs", help="RQ jobs and the rq-scheduler schedule.")


def _scheduler() -> Scheduler:
    return Scheduler(connection=redis_client(), interval=5)


@jobs_cli.command("list")
def jobs_list() -> None:
    """The declared schedule and what rq-scheduler holds."""
    scheduled = {job.id: job for job in _scheduler().get_jobs()}
    for entry in schedule.SCHEDULE:
        state = "scheduled" if entry.job_id in scheduled else "not scheduled (run `flask jobs schedule`)"
        click.echo(f"{entry.name:<20} {entry.cron:<16} {entry.func:<32} {state}")


@jobs_cli.command("schedule")
def jobs_schedule() -> None:
    """Reconcile rq-scheduler with the declared schedule."""
    changes = schedule.reconcile(_scheduler())
    click.echo(f"created {changes.created}, kept {changes.kept}, cancelled {changes.cancelled}")


@jobs_cli.command("run")
@click.argument("name", type=click.Choice([entry.name for entry in schedule.SCHEDULE]))
def jobs_run(name: str) -> None:
    """Enqueue a scheduled job now."""
    entry = next(e for e in schedule.SCHEDULE if e.name == name)
    job = Queue(entry.queue, connection=redis_client()).enqueue(
        entry.func, job_timeout=entry.timeout, result_ttl=entry.result_ttl, failure_ttl=entry.failure_ttl
    )
    click.echo(f"enqueued {name} as job {job.id}")


@jobs_cli.command("scheduler")
def jobs_scheduler() -> None:
    """Reconcile the schedule, then run rq-scheduler (what `make run` and docker-compose start)."""
    scheduler = _scheduler()
    schedule.reconcile(scheduler)
    scheduler.run()
