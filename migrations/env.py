"""Alembic environment: runs against the connection the app hands over, or DATABASE_URL."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

import oncord.models  # noqa: F401  (registers every table on the metadata)
from oncord.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Use the app's connection when given one (the CLI and tests do)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(os.environ["DATABASE_URL"])
    with engine.begin() as conn:
        _run(conn)


if context.is_offline_mode():
    context.configure(url=os.environ.get("DATABASE_URL"), target_metadata=target_metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
