from __future__ import annotations

from marshmallow import Schema, fields, validate

from service.api.schemas import Pattern
from service.core.ingest.manual import MAX_ROWS


class ImportArgs(Schema):
    marketplace = fields.String(
        load_default="manual",
        validate=Pattern(r"^[a-z]+(-[a-z]+)*$"),
        metadata={"description": "The marketplace the observations come from (default: manual)"},
    )


class ImportBody(Schema):
    rows = fields.List(
        fields.Raw(),
        required=True,
        validate=validate.Length(1, MAX_ROWS),
        metadata={"description": "Row objects; the fields depend on the kind (see the endpoint's description)"},
    )


class ImportResult(Schema):
    run_id = fields.Integer(required=True)
    rows = fields.Integer(required=True)
    written = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    skipped = fields.Dict(
        keys=fields.String(), values=fields.Integer(), required=True, metadata={"description": "Already imported"}
    )
    pipeline_job = fields.String(allow_none=True, metadata={"description": "The job recomputing metrics"})
