from __future__ import annotations

from rq_scheduler import Scheduler

from jobs import schedule
from jobs.schedule import Entry

TICK = Entry("tick", "jobs.tasks.sim_tick", "*/5 * * * *")
NIGHTLY = Entry("nightly", "jobs.tasks.sim_tick", "0 3 * * *", timeout=60)


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
