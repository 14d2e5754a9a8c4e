"""flask db upgrade | current | revision."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from oncord import migrate
from oncord.db import get_database

db_group = AppGroup("db", help="Database migrations (Alembic).")


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def upgrade_command(revision: str) -> None:
    """Apply migrations up to a revision."""
    migrate.upgrade(get_database().engine, revision)
    click.echo(f"Database at {migrate.current_revision(get_database().engine)}.")


@db_group.command("downgrade")
@click.argument("revision")
def downgrade_command(revision: str) -> None:
    """Revert migrations down to a revision."""
    migrate.downgrade(get_database().engine, revision)
    click.echo(f"Database at {migrate.current_revision(get_database().engine)}.")


@db_group.command("current")
def current_command() -> None:
    """Print the database's migration revision."""
    click.echo(migrate.current_revision(get_database().engine) or "(empty database)")


@db_group.command("revision")
@click.option("-m", "--message", required=True)
def revision_command(message: str) -> None:
    """Autogenerate a migration from model changes (developers only)."""
    migrate.revision(get_database().engine, message)


def init_app(app: Flask) -> None:
    """Register `flask db` on the app's CLI."""
    app.cli.add_command(db_group)
