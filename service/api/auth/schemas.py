from __future__ import annotations

from marshmallow import Schema, fields, post_load, validate

from service.api.schemas import enum

SESSION_KINDS = ("bearer", "cookie")


def _email() -> fields.Email:
    return fields.Email(required=True, validate=validate.Length(3, 254))


class Credentials(Schema):
    email = _email()
    password = fields.String(required=True, load_only=True, validate=validate.Length(1, 1024))
    session = enum(
        "SessionKind",
        SESSION_KINDS,
        load_default="bearer",
        load_only=True,
        metadata={
            "description": "bearer (default, mobile): both tokens in the body. cookie (the web client): the "
            "refresh token in an httpOnly cookie for POST /api/v1/auth/refresh, with the CSRF token in the "
            "readable cookie csrf_refresh_token, to send back as X-CSRF-TOKEN"
        },
    )

    @post_load
    def _normalise(self, data: dict, **_: object) -> dict:
        data["email"] = data["email"].strip().lower()
        return data


class Registration(Schema):
    """No `session`: registering signs no one in (the address may have an account already); sign in next."""

    email = _email()
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
    email_verified = fields.Boolean(required=True, metadata={"description": "The address was confirmed by e-mail"})
    alert_emails = fields.Boolean(
        required=True, metadata={"description": "Alert firings are e-mailed (once the address is verified)"}
    )


class UserChange(Schema):
    alert_emails = fields.Boolean(required=True)


class Tokens(Schema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(
        metadata={"description": "Absent in cookie sessions: it is in the cookie", "optional": True}
    )
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(
        required=True, metadata={"description": "Seconds the access token lives", "example": 900}
    )


class EmailToken(Schema):
    token = fields.String(required=True, validate=validate.Length(1, 200), metadata={"description": "From the link"})


class PasswordResetRequest(Schema):
    email = _email()

    @post_load
    def _normalise(self, data: dict, **_: object) -> dict:
        data["email"] = data["email"].strip().lower()
        return data


class PasswordReset(Schema):
    token = fields.String(required=True, validate=validate.Length(1, 200), metadata={"description": "From the link"})
    password = fields.String(required=True, load_only=True, validate=validate.Length(1, 1024))


class Accepted(Schema):
    message = fields.String(required=True)
