"""`flask users ...`: accounts from the command line (the first admin)."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from marshmallow import ValidationError, validate

from service.core import accounts
from service.extensions import database

users_cli = AppGroup("users", help="Accounts.")


@users_cli.command("create-admin")
@click.argument("email")
@click.password_option(envvar="BOXPRO_ADMIN_PASSWORD", help="Prompted for when not given (or BOXPRO_ADMIN_PASSWORD)")
def create_admin(email: str, password: str) -> None:
    """Create an admin account, or make an existing account an admin."""
    try:
        email = validate.Email()(email.strip().lower())
    except ValidationError as exc:
        raise click.BadParameter("; ".join(map(str, exc.messages)), param_hint="EMAIL") from exc
    problems = accounts.password_problems(password, email)
    if problems:
        raise click.BadParameter("; ".join(problems), param_hint="--password")
    created = database().fetch_one(
        "auth/create_user", {"email": email, "password_hash": accounts.hash_password(password), "role": "admin"}
    )
    if created is None:
        database().fetch_one("auth/make_admin", {"email": email})
        click.echo(f"{email} already had an account; it is now an admin (its password is unchanged)")
    else:
        click.echo(f"admin {email} created")
