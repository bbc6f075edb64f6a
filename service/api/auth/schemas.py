from __future__ import annotations

from marshmallow import Schema, fields, post_load, validate

from service.api.schemas import enum


class Credentials(Schema):
    email = fields.Email(required=True, validate=validate.Length(3, 254))
    password = fields.String(required=True, load_only=True, validate=validate.Length(1, 1024))

    @post_load
    def _normalise(self, data: dict, **_: object) -> dict:
        data["email"] = data["email"].strip().lower()
        return data


class PasswordChange(Schema):
    current_password = fields.String(required=True, load_only=True, validate=validate.Length(1, 1024))
    new_password = fields.String(required=True, load_only=True, validate=validate.Length(1, 1024))


class User(Schema):
    id = fields.Integer(required=True, metadata={"example": 7})
    email = fields.String(required=True, metadata={"example": "ann@example.com"})
    role = enum("Role", ("user", "admin"), required=True)
    created_at = fields.DateTime(metadata={"example": "2026-03-01T12:00:00+00:00"})


class Tokens(Schema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(
        required=True, metadata={"description": "Seconds the access token lives", "example": 900}
    )


class Registered(Schema):
    user = fields.Nested(User, required=True)
    tokens = fields.Nested(Tokens, required=True)
