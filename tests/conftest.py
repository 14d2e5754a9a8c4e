"""Fixtures shared by the whole suite: app, database (SQLite or PostgreSQL), Redis, clock.

Which PostgreSQL and Redis servers: tests/fixtures/services.py.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from redis import Redis
from sqlalchemy import create_engine, inspect, make_url, text
from sqlalchemy.orm import Session

from oncord import create_app, migrate
from oncord.clock import FrozenClock
from oncord.db import Base, get_database, make_engine

pytest_plugins = ["tests.fixtures.services", "tests.fixtures.sandbox", "tests.fixtures.worker",
                  "tests.fixtures.messaging", "tests.fixtures.rq_inprocess"]

START = datetime(2026, 11, 20, 23, 0, tzinfo=UTC)  # 10:00 next morning in Melbourne


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "postgresql"),
        default=os.environ.get("ONCORD_TEST_DB", "sqlite"),
        help="database the suite runs on (env ONCORD_TEST_DB)",
    )


def _admin_engine(admin_url: str):
    url = make_url(admin_url).set(drivername="postgresql+psycopg")
    return create_engine(url, isolation_level="AUTOCOMMIT")


def _postgres_test_url(admin_url: str) -> str:
    # One database per session (named by pid), so runs sharing a server never meet.
    name = f"oncord_test_{os.getpid()}"
    admin = _admin_engine(admin_url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _drop_postgres(admin_url: str, url: str) -> None:
    admin = _admin_engine(admin_url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database for the session, on the engine chosen with --db."""
    admin_url = None
    if request.config.getoption("--db") == "postgresql":
        # Asked for here only, so the SQLite half never starts a PostgreSQL.
        admin_url = request.getfixturevalue("postgres_admin_url")
        url = _postgres_test_url(admin_url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    if admin_url is not None:
        _drop_postgres(admin_url, url)


@pytest.fixture
def clock() -> FrozenClock:
    """A clock tests move by hand."""
    return FrozenClock(START)


@pytest.fixture
def redis_conn(redis_url: str) -> Iterator[Redis]:
    """A real Redis, on a db number of its own, flushed around each test."""
    conn = Redis.from_url(redis_url)
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


def _empty_tables(app: Flask) -> None:
    engine = get_database(app).engine
    existing = set(inspect(engine).get_table_names())
    tables = [t for t in reversed(Base.metadata.sorted_tables) if t.name in existing]
    if engine.dialect.name == "postgresql":
        _wait_for_other_transactions(engine)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            # The append-only ledger's triggers refuse DELETE (TRUNCATE on PostgreSQL is not a
            # DELETE); lift them for the wipe and put them back as they were.
            triggers = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
            for name, _sql in triggers:
                conn.execute(text(f'DROP TRIGGER "{name}"'))
            for table in tables:
                conn.execute(table.delete())
            for _name, sql in triggers:
                conn.execute(text(sql))


def _wait_for_other_transactions(engine) -> None:
    """Wait until no other session is mid-transaction on the test database: a previous test's
    worker, killed a moment ago, may still own a backend that holds locks and asks for more,
    and TRUNCATE taking its locks one table at a time would deadlock with it."""
    busy = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')"
    )
    deadline = time.monotonic() + 15
    with engine.connect() as conn:
        while conn.execute(busy).scalar_one() and time.monotonic() < deadline:
            conn.rollback()
            time.sleep(0.05)


@pytest.fixture
def app(
    database_url: str, clock: FrozenClock, redis_url: str, redis_conn: Redis, tmp_path: Path
) -> Iterator[Flask]:
    """The app on the test database with a frozen clock and a flushed Redis."""
    application = create_app(
        {
            "mode": "test",
            "database_url": database_url,
            "redis_url": redis_url,
            "rq_queue": "oncord-test",
        },
        clock=clock,
    )
    application.config["WTF_CSRF_ENABLED"] = True
    _empty_tables(application)
    yield application
    get_database(application).engine.dispose()


@pytest.fixture
def db_session(app: Flask) -> Iterator[Session]:
    """A session on the test database for arranging and asserting."""
    with get_database(app).session() as session:
        yield session


@pytest.fixture
def client(app: Flask):
    """Flask's test client."""
    return app.test_client()


@pytest.fixture
def cli(app: Flask):
    """Runs `flask --app app ...` commands against the test app."""
    return app.test_cli_runner()
