"""flask users create: add a staff login from the command line."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from oncord.accounts.users import AccountError, create_user
from oncord.context import clock
from oncord.db import get_database
from oncord.models import Role

users_group = AppGroup("users", help="Staff logins.")


@users_group.command("create")
@click.option("--email", required=True, help="The e-mail address the person logs in with.")
@click.option("--password", help="Their first password (asked for when not given).")
@click.option("--admin", is_flag=True, help="May change integrations and users.")
def create_command(email: str, password: str | None, admin: bool) -> None:
    """Create a user; the password is prompted for (twice, hidden) unless given."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with get_database().session() as session:
        try:
            user = create_user(session, email=email, password=password,
                               role=Role.ADMIN if admin else Role.STAFF, clock=clock())
        except AccountError as exc:
            raise click.ClickException(str(exc)) from exc
        session.commit()
        click.echo(f"Created {user.role} {user.email}.")


def init_app(app: Flask) -> None:
    """Register `flask users` on the app's CLI."""
    app.cli.add_command(users_group)
