"""Admin: ingest runs and jobs. Every route needs an admin account (Blueprint.admin_required)."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app
from rq.exceptions import NoSuchJobError
from rq.job import Job

from service.api.admin.schemas import IngestRunArgs, IngestRunPage, JobState, JobTrigger, RecomputeRequest
from service.api.blueprint import Blueprint
from service.api.common import envelope
from service.api.errors import ApiError
from service.core import queueing
from service.extensions import database, redis_client

blp = Blueprint("admin", __name__, url_prefix="/api/v1/admin", description="Operations (admins only)")
_JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # fullmatch: `$` would let a final newline through to rq


@blp.route("/ingest-runs")
@blp.admin_required
@blp.arguments(IngestRunArgs, location="query")
@blp.response(200, IngestRunPage)
def ingest_runs(args: dict[str, Any]) -> dict[str, Any]:
    """Ingest runs, newest first: what was written, what was rejected and why, errors."""
    rows = database().fetch_all(
        "admin/ingest_runs",
        {"kind": args.get("kind"), "status": args.get("status"), "limit": args["limit"], "offset": args["offset"]},
    )
    return envelope(rows, total=rows[0]["total"] if rows else 0, limit=args["limit"], offset=args["offset"])


@blp.route("/jobs", methods=["POST"])
@blp.admin_required
@blp.arguments(JobTrigger)
@blp.response(202, JobState)
def trigger_job(body: dict[str, Any]) -> dict[str, Any]:
    """Enqueue a scheduled job now (by its name in the schedule)."""
    # The schedule is declared by jobs/ and handed to the app by its factory: the API never imports jobs/.
    schedule = current_app.extensions["boxpro.schedule"]
    entry = schedule.get(body["name"])
    if entry is None:
        known = ", ".join(sorted(schedule))
        raise ApiError(
            422, f"No scheduled job named {body['name']!r}.", details={"json": {"name": [f"Must be one of: {known}."]}}
        )
    job = entry.run_now(redis_client())
    return _state(job)


@blp.route("/recompute", methods=["POST"])
@blp.admin_required
@blp.arguments(RecomputeRequest)
@blp.response(202, JobState)
def recompute_days(body: dict[str, Any]) -> dict[str, Any]:
    """Recompute rollups, metrics, ranks and the index for a range of days, as a job; its progress
    shows in GET /admin/jobs/{id} (`progress`). `resummarise` first re-summarises the snapshots (after
    a settings change); a backfill of days never computed is the same call."""
    first, last = body["from_"], body["to"]
    if first > last:
        raise ApiError(422, "The request is not valid; see details.", details={"json": {"from": ["is after `to`"]}})
    job = queueing.enqueue(
        redis_client(),
        "recompute",
        "jobs.tasks.recompute_days",
        first.isoformat(),
        last.isoformat(),
        body["resummarise"],
        timeout=3 * 3600,
    )
    return _state(job)


@blp.route("/jobs/<string:job_id>")
@blp.admin_required
@blp.response(200, JobState)
@blp.alt_response(404, description="No such job")
def job_state(job_id: str) -> dict[str, Any]:
    """A job's state, result or error."""
    if not _JOB_ID.fullmatch(job_id):
        raise ApiError(400, "A job id is letters, digits, '-' and '_'.")
    try:
        job = Job.fetch(job_id, connection=redis_client())
    except NoSuchJobError:
        raise ApiError(404, f"No job {job_id!r} (finished jobs are kept for a day).") from None
    return _state(job)


def _state(job: Job) -> dict[str, Any]:
    result = job.latest_result()
    return {
        "id": job.id,
        "name": job.meta.get("schedule"),
        "status": getattr(job.get_status(), "value", "unknown"),
        "enqueued_at": job.enqueued_at,
        "started_at": job.started_at,
        "ended_at": job.ended_at,
        "result": result.return_value if result and result.type == result.Type.SUCCESSFUL else None,
        "error": result.exc_string if result and result.type == result.Type.FAILED else None,
        "progress": job.meta.get("progress"),
    }
