"""Fixtures shared by the whole suite: app, database (SQLite or PostgreSQL), Redis, clock."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from redis import Redis
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.orm import Session

from oncord import create_app, migrate
from oncord.clock import FrozenClock
from oncord.db import Base, get_database

pytest_plugins = ["tests.fixtures.sandbox", "tests.fixtures.worker", "tests.fixtures.messaging",
                  "tests.fixtures.rq_inprocess"]

POSTGRES_ADMIN_URL = os.environ.get("ONCORD_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test")
TEST_REDIS_URL = os.environ.get("ONCORD_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
START = datetime(2026, 11, 20, 23, 0, tzinfo=UTC)  # 10:00 next morning in Melbourne


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "postgresql"),
        default=os.environ.get("ONCORD_TEST_DB", "sqlite"),
        help="database the suite runs on (env ONCORD_TEST_DB)",
    )


def _postgres_test_url() -> str:
    admin = create_engine(POSTGRES_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://"),
                          isolation_level="AUTOCOMMIT")
    name = f"oncord_test_{os.getpid()}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _drop_postgres(url: str) -> None:
    admin = create_engine(POSTGRES_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://"),
                          isolation_level="AUTOCOMMIT")
    name = url.rsplit("/", 1)[1]
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database for the session, on the engine chosen with --db."""
    if request.config.getoption("--db") == "postgresql":
        url = _postgres_test_url()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    from oncord.db import make_engine

    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    if url.startswith("postgresql"):
        _drop_postgres(url)


@pytest.fixture
def clock() -> FrozenClock:
    """A clock tests move by hand."""
    return FrozenClock(START)


@pytest.fixture
def redis_conn() -> Iterator[Redis]:
    """A real Redis, on a db number of its own, flushed around each test."""
    conn = Redis.from_url(TEST_REDIS_URL)
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


def _empty_tables(app: Flask) -> None:
    engine = get_database(app).engine
    existing = set(inspect(engine).get_table_names())
    tables = [t for t in reversed(Base.metadata.sorted_tables) if t.name in existing]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def app(database_url: str, clock: FrozenClock, redis_conn: Redis, tmp_path: Path) -> Iterator[Flask]:
    """The app on the test database with a frozen clock and a flushed Redis."""
    application = create_app(
        {
            "mode": "test",
            "database_url": database_url,
            "redis_url": TEST_REDIS_URL,
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
