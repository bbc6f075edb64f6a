from __future__ import annotations

import socket
import time

import pytest
from rq import SimpleWorker
from rq.job import Job
from rq_scheduler import Scheduler

from jobs import schedule
from jobs.schedule import Entry

TICK = Entry("tick", "jobs.tasks.sim_tick", "*/5 * * * *")
NIGHTLY = Entry("nightly", "jobs.tasks.sim_tick", "0 3 * * *", timeout=60)
# Any importable function will do for a job that really runs here.
WEEKLY = Entry("weekly", "os.getpid", "45 4 * * 1")

pytestmark = pytest.mark.clock  # cron entries are due at instants counted from now


def scheduled(scheduler: Scheduler) -> dict[str, str]:
    return {job.id: job.meta.get("cron_string", "") for job in scheduler.get_jobs()}


def test_reconcile_creates_once_and_restarts_never_duplicate(redis_db):
    scheduler = Scheduler(connection=redis_db)
    first = schedule.reconcile(scheduler, (TICK, NIGHTLY))
    assert (first.created, first.kept, first.cancelled) == (["tick", "nightly"], [], [])
    for _ in range(3):  # three scheduler restarts
        again = schedule.reconcile(Scheduler(connection=redis_db), (TICK, NIGHTLY))
        assert (again.created, again.kept) == ([], ["tick", "nightly"])
    assert sorted(scheduled(scheduler)) == ["schedule-nightly", "schedule-tick"]


def test_a_changed_entry_is_recreated_and_a_removed_one_cancelled(redis_db):
    scheduler = Scheduler(connection=redis_db)
    schedule.reconcile(scheduler, (TICK, NIGHTLY))
    faster = Entry("tick", "jobs.tasks.sim_tick", "* * * * *")
    changes = schedule.reconcile(scheduler, (faster,))
    assert (changes.created, changes.cancelled) == (["tick"], ["nightly"])
    assert scheduled(scheduler) == {"schedule-tick": "* * * * *"}


def test_a_scheduled_job_is_still_held_after_it_ran(redis_db):
    """rq-scheduler drops an entry whose job has expired: a weekly entry's job must outlive its runs."""
    scheduler = Scheduler(connection=redis_db)
    schedule.reconcile(scheduler, (WEEKLY,))
    redis_db.zadd(scheduler.scheduled_jobs_key, {WEEKLY.job_id: 0})  # due now
    scheduler.enqueue_jobs()
    SimpleWorker(["default"], connection=redis_db).work(burst=True)
    job = Job.fetch(WEEKLY.job_id, connection=redis_db)
    assert job.get_status() == "finished"
    assert redis_db.ttl(job.key) == -1  # a TTL would end the entry before next Monday
    assert [held.id for held in scheduler.get_jobs()] == [WEEKLY.job_id]
    assert schedule.reconcile(scheduler, (WEEKLY,)).kept == ["weekly"]


def test_an_entry_whose_job_would_expire_is_scheduled_again(redis_db):
    """Entries scheduled before their jobs stopped expiring are re-created, not kept."""
    scheduler = Scheduler(connection=redis_db)
    meta = {"fingerprint": WEEKLY.fingerprint, "schedule": WEEKLY.name}
    scheduler.cron(WEEKLY.cron, func=WEEKLY.func, id=WEEKLY.job_id, result_ttl=24 * 3600, meta=meta)
    assert schedule.reconcile(scheduler, (WEEKLY,)).created == ["weekly"]
    assert Job.fetch(WEEKLY.job_id, connection=redis_db).result_ttl == schedule.NEVER_EXPIRES


def test_jobs_not_ours_are_left_alone(redis_db):
    scheduler = Scheduler(connection=redis_db)
    other = scheduler.cron("0 0 * * *", func="jobs.tasks.sim_tick", id="someone-else")
    schedule.reconcile(scheduler, (TICK,))
    assert other.id in scheduled(scheduler)


def test_the_cli_schedules_and_lists(runner, redis_db):
    result = runner.invoke(args=["jobs", "schedule"])
    assert result.exit_code == 0, result.output
    assert f"created {[entry.name for entry in schedule.SCHEDULE]}" in result.output
    listing = runner.invoke(args=["jobs", "list"])
    assert "sim-tick" in listing.output
    assert "not scheduled" not in listing.output
    bad = runner.invoke(args=["jobs", "run", "no-such-job"])
    assert bad.exit_code == 2


def test_health_wants_a_live_scheduler_on_the_named_host(redis_db):
    schedule.reconcile(schedule.scheduler(redis_db), (TICK, NIGHTLY))
    assert schedule.health(redis_db, (TICK, NIGHTLY)) == schedule.Health([], [], [])
    assert not schedule.health(redis_db, (TICK, NIGHTLY)).ok
    running = schedule.ReconcilingScheduler(redis_db, (TICK, NIGHTLY))
    running.register_birth()  # what rq-scheduler's run() does first, then renews by heartbeat
    here = socket.gethostname()
    assert schedule.health(redis_db, (TICK, NIGHTLY), host=here) == schedule.Health([running.name], [], [])
    assert schedule.health(redis_db, (TICK, NIGHTLY), host=here).ok
    assert schedule.health(redis_db, (TICK, NIGHTLY), host="another-host").live == []
    running.register_death()  # a clean exit
    assert schedule.health(redis_db, (TICK, NIGHTLY)).live == []


def test_a_scheduler_without_heartbeats_is_dead(redis_db):
    running = schedule.ReconcilingScheduler(redis_db, (TICK, NIGHTLY))
    running.register_birth()
    assert 0 < redis_db.ttl(running.key) <= schedule.INTERVAL_S + 10  # each heartbeat renews it
    redis_db.expire(running.key, 1)  # a killed process sends none
    time.sleep(1.1)
    assert schedule.health(redis_db, ()).live == []


def test_health_names_entries_not_held_as_declared(redis_db):
    scheduler = schedule.scheduler(redis_db)
    scheduler.register_birth()
    schedule.reconcile(scheduler, (TICK, NIGHTLY, WEEKLY))
    scheduler.cancel(f"schedule-{NIGHTLY.name}")
    faster = Entry("tick", "jobs.tasks.sim_tick", "* * * * *")  # declared since the scheduler started
    assert schedule.health(redis_db, (faster, NIGHTLY, WEEKLY)).missing == ["tick", "nightly"]
    due = redis_db.zscore(scheduler.scheduled_jobs_key, WEEKLY.job_id)
    redis_db.expire(f"rq:job:{WEEKLY.job_id}", int(due - time.time()) + 3600)  # a failed run's failure_ttl
    assert schedule.health(redis_db, (WEEKLY,)).missing == []
    redis_db.expire(f"rq:job:{WEEKLY.job_id}", int(due - time.time()) // 2)  # gone before it is due
    assert schedule.health(redis_db, (WEEKLY,)).missing == ["weekly"]


def test_health_names_entries_no_scheduler_moved_on_time(redis_db):
    scheduler = schedule.scheduler(redis_db)
    scheduler.register_birth()
    schedule.reconcile(scheduler, (TICK, NIGHTLY))
    redis_db.zadd(scheduler.scheduled_jobs_key, {TICK.job_id: time.time() - schedule.LATE_AFTER_S + 5})
    assert schedule.health(redis_db, (TICK, NIGHTLY)).ok
    redis_db.zadd(scheduler.scheduled_jobs_key, {TICK.job_id: time.time() - schedule.LATE_AFTER_S - 5})
    assert schedule.health(redis_db, (TICK, NIGHTLY)) == schedule.Health([scheduler.name], [], ["tick"])


def test_the_running_scheduler_puts_back_a_schedule_redis_lost(redis_db, monkeypatch):
    running = schedule.ReconcilingScheduler(redis_db, (TICK, NIGHTLY))
    running.enqueue_jobs()  # its first round reconciles
    assert schedule.health(redis_db, (TICK, NIGHTLY)).missing == []
    redis_db.flushdb()  # Redis came back without its data
    running.enqueue_jobs()
    assert schedule.health(redis_db, (TICK, NIGHTLY)).missing == ["tick", "nightly"]  # not yet: once a minute
    monkeypatch.setattr(schedule, "RECONCILE_EVERY_S", 0)
    running.enqueue_jobs()
    assert schedule.health(redis_db, (TICK, NIGHTLY)).missing == []
