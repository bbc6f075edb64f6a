"""`flask jobs ...`: the rq-scheduler schedule and RQ jobs."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import click
from flask.cli import AppGroup
from rq import Worker
from rq_scheduler import Scheduler

from jobs import schedule
from jobs.worker import recover_abandoned
from service.commands import settings as _settings
from service.extensions import redis_client

jobs_cli = AppGroup("jobs", help="RQ jobs and the rq-scheduler schedule.")


def _scheduler() -> Scheduler:
    return schedule.scheduler(redis_client())


def _entries() -> tuple[schedule.Entry, ...]:
    return schedule.for_mode(_settings().data_mode)


@jobs_cli.command("list")
def jobs_list() -> None:
    """The declared schedule and what rq-scheduler holds."""
    scheduled = {job.id: job for job in _scheduler().get_jobs()}
    width = max(len(entry.func) for entry in _entries())  # adapters' dotted paths are long
    for entry in _entries():
        state = "scheduled" if entry.job_id in scheduled else "not scheduled (run `flask jobs schedule`)"
        click.echo(f"{entry.name:<22} {entry.cron:<16} {entry.func:<{width}} {state}")


@jobs_cli.command("schedule")
def jobs_schedule() -> None:
    """Reconcile rq-scheduler with the declared schedule."""
    changes = schedule.reconcile(_scheduler(), _entries())
    click.echo(f"created {changes.created}, kept {changes.kept}, cancelled {changes.cancelled}")


@jobs_cli.command("run")
@click.argument("name")
def jobs_run(name: str) -> None:
    """Enqueue a scheduled job now."""
    entry = next((e for e in _entries() if e.name == name), None)
    if entry is None:
        known = ", ".join(e.name for e in _entries())
        raise click.BadParameter(f"no entry {name!r} in this deployment's schedule ({known})", param_hint="NAME")
    job = entry.run_now(redis_client())
    click.echo(f"enqueued {name} as job {job.id}")


@jobs_cli.command("workers")
@click.option("--this-host", is_flag=True, help="Only workers on this machine (a container's healthcheck).")
def jobs_workers(this_host: bool) -> None:
    """Live RQ workers: state, current job, last heartbeat, jobs done. Exits 1 when there is none."""
    workers = Worker.all(connection=redis_client())
    if this_host:
        workers = [w for w in workers if w.hostname == socket.gethostname()]
    now = datetime.now(UTC)
    for worker in sorted(workers, key=lambda w: w.name):
        job = worker.get_current_job_id() or "-"
        beat = worker.last_heartbeat.replace(tzinfo=UTC) if worker.last_heartbeat else None
        age = f"{(now - beat).total_seconds():.0f} s ago" if beat else "never"
        click.echo(
            f"{worker.name:<40} {worker.get_state():<10} queues={','.join(worker.queue_names())} job={job} "
            f"heartbeat={age} done={worker.successful_job_count} failed={worker.failed_job_count}"
        )
    if not workers:
        raise click.ClickException("no live RQ worker" + (" on this host" if this_host else ""))


@jobs_cli.command("check-scheduler")
@click.option("--this-host", is_flag=True, help="Only a scheduler on this machine counts (a container's healthcheck).")
def jobs_check_scheduler(this_host: bool) -> None:
    """Exit 0 only when an rq-scheduler process is alive and holds every entry of this deployment's
    schedule as declared, none of them overdue: the scheduler's healthcheck."""
    entries = _entries()
    found = schedule.health(redis_client(), entries, host=socket.gethostname() if this_host else None)
    for name in found.live:
        click.echo(f"rq-scheduler {name} is alive")
    problems = []
    if not found.live:
        problems.append("no live rq-scheduler" + (" on this host" if this_host else ""))
    if found.missing:
        problems.append(f"not held as declared: {', '.join(found.missing)} (`flask jobs schedule` reconciles)")
    if found.late:
        problems.append(f"overdue by more than {schedule.LATE_AFTER_S} s: {', '.join(found.late)}")
    if problems:
        raise click.ClickException("; ".join(problems))
    click.echo(f"it holds all {len(entries)} entries of the {_settings().data_mode} schedule, none overdue")


@jobs_cli.command("forget-worker")
@click.argument("name")
def jobs_forget_worker(name: str) -> None:
    """Deregister worker NAME, which died without saying so (SIGKILL, out of memory): it no longer counts
    as live, and the job it held is handed to RQ's abandoned-job handling at once (its Retry policy
    re-queues it) instead of after its heartbeat lapses."""
    connection = redis_client()
    worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + name, connection=connection)
    if worker is None:
        click.echo(f"no worker {name!r} is registered")
        return
    job_id = worker.get_current_job_id()
    worker.register_death()
    recovered = job_id is not None and recover_abandoned(connection, job_id)
    click.echo(f"deregistered {name}" + (f"; its job {job_id} was handed back to RQ" if recovered else ""))


@jobs_cli.command("scheduler")
def jobs_scheduler() -> None:
    """Run rq-scheduler, reconciling the schedule as it starts and every minute after (what `make run`
    and docker-compose start)."""
    schedule.ReconcilingScheduler(redis_client(), _entries()).run()
