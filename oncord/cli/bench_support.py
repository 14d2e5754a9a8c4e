"""Scratch databases and bulk loading shared by the `flask bench` commands."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, create_engine, text


def _admin_engine(admin_url: str) -> Engine:
    # CREATE/DROP DATABASE cannot run inside a transaction.
    return create_engine(
        admin_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )


def scratch_postgres(admin_url: str, name: str, reuse: bool = False) -> tuple[str, bool]:
    """Create (or with reuse, keep) the database `name`; (its url, whether it already existed)."""
    admin = _admin_engine(admin_url)
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not (reuse and exists):
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name, bool(reuse and exists)


def scratch_database(kind: str, postgres_url: str, name: str, prefix: str) -> str:
    """A fresh empty database: a SQLite file in a new temporary folder, or the PostgreSQL `name`."""
    if kind == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp(prefix=prefix)}/bench.db"
    return scratch_postgres(postgres_url, name)[0]


def drop_postgres(admin_url: str, name: str) -> None:
    """Drop the scratch PostgreSQL database `name`, closing any connections to it."""
    admin = _admin_engine(admin_url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def copy_rows(engine: Engine, table: str, columns: tuple[str, ...], rows: Iterator[tuple[Any, ...]]) -> None:
    """Load rows into a PostgreSQL table with COPY (far faster than INSERT for a seed)."""
    raw = engine.raw_connection()
    try:
        with raw.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


def ids(engine: Engine, table: str) -> list[int]:
    """Every id in a table, in order."""
    with engine.connect() as conn:
        return list(conn.scalars(text(f"SELECT id FROM {table} ORDER BY id")))
