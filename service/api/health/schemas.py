from marshmallow import Schema, fields


class Check(Schema):
    ok = fields.Boolean(required=True)
    error = fields.String()


class DatabaseCheck(Check):
    postgres_version = fields.String()
    timescaledb_version = fields.String()
    timescaledb_license = fields.String(metadata={"description": "`apache` or `timescale`"})
    rollup_mode = fields.String(metadata={"description": "`continuous_aggregate` or `materialized_hypertable`"})
    migration_version = fields.String(allow_none=True)
    pending_migrations = fields.List(fields.String())
    data_mode = fields.String(allow_none=True, metadata={"description": "The database's: `demo` or `live`"})


class Liveness(Schema):
    status = fields.String(required=True, metadata={"example": "ok"})


class Readiness(Schema):
    status = fields.String(
        required=True,
        metadata={"description": "ok, degraded (Redis down, or a warning) or unavailable (the database is down)"},
    )
    data_mode = fields.String(
        required=True,
        metadata={"description": "`demo` (the simulated market) or `live` (real marketplaces only): DATA_MODE"},
    )
    failing = fields.List(
        fields.String(), required=True, metadata={"description": "Failing checks: the API is not ready (503)"}
    )
    warnings = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "Failing checks the API answers rightly without (timescaledb_jobs): still 200"},
    )
    checks = fields.Dict(keys=fields.String(), values=fields.Dict(), required=True)
