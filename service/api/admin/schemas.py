from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validates_schema
from rq.job import JobStatus

from service.api.common import Meta, PageArgs
from service.api.schemas import Pattern, day, enum

RUN_STATUSES = ("running", "succeeded", "failed", "deferred")


class IngestRunArgs(PageArgs):
    kind = fields.String(validate=Pattern(r"^[a-z]+(-[a-z]+)*$"))
    status = enum("IngestRunStatus", RUN_STATUSES)


class IngestRun(Schema):
    id = fields.Integer(required=True)
    kind = fields.String()
    marketplace = fields.String(allow_none=True)
    product_ids = fields.List(fields.Integer(), allow_none=True)
    status = enum("IngestRunStatus", RUN_STATUSES)
    started_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    rows_written = fields.Dict()
    rows_rejected = fields.Dict()
    http_calls = fields.Integer()
    http_errors = fields.Integer(metadata={"description": "marketplace calls that failed (after retries)"})
    error = fields.String(allow_none=True)
    job_id = fields.String(allow_none=True)
    replay_of = fields.Integer(allow_none=True, metadata={"description": "the run this one replayed, if a replay"})


class IngestRunPage(Schema):
    data = fields.List(fields.Nested(IngestRun), required=True)
    meta = fields.Nested(Meta, required=True)


class JobTrigger(Schema):
    name = fields.String(
        required=True,
        validate=Pattern(r"^[a-z0-9]+(-[a-z0-9]+)*$"),
        metadata={"description": "The name of an entry of the schedule (`flask jobs list`)", "example": "sim-tick"},
    )


MAX_RECOMPUTE_DAYS = 3 * 366  # as long a range as a history reads; a longer backfill is several requests


class RecomputeRequest(Schema):
    from_ = day(required=True, data_key="from", metadata={"description": "First day (UTC)"})
    to = day(
        required=True,
        metadata={"description": f"Last day (UTC), at most {MAX_RECOMPUTE_DAYS} days after `from`"},
    )
    resummarise = fields.Boolean(load_default=False, metadata={"description": "Re-summarise snapshots first"})

    @validates_schema
    def _bounded(self, data: dict[str, Any], **_: Any) -> None:
        if (data["to"] - data["from_"]).days > MAX_RECOMPUTE_DAYS:
            raise ValidationError(f"must be at most {MAX_RECOMPUTE_DAYS} days before `to`", field_name="from")


class Progress(Schema):
    stage = fields.String(required=True, metadata={"example": "metrics"})
    done = fields.Integer(required=True, metadata={"description": "Stages finished"})
    total = fields.Integer(required=True)


class JobState(Schema):
    id = fields.String(required=True)
    name = fields.String(allow_none=True)
    status = enum("JobStatus", [*(status.value for status in JobStatus), "unknown"], required=True)
    enqueued_at = fields.DateTime(allow_none=True)
    started_at = fields.DateTime(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)
    result = fields.Dict(
        keys=fields.String(),
        allow_none=True,
        metadata={"description": "What the job returned (its counts and days), once it succeeded"},
    )
    error = fields.String(allow_none=True)
    progress = fields.Nested(Progress, allow_none=True, metadata={"description": "Of a recompute: stages done"})
