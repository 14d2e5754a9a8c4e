"""The servers the suite runs on: its own Redis and PostgreSQL, or named ones that must answer."""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import urlsplit

import psycopg
import pytest
import redis

from oncord.embedded_redis import free_port, start_redis
from tests.fixtures.embedded_postgres import start_postgres
from tests.fixtures.worker import ROOT


def test_an_embedded_redis_never_hands_back_another_server() -> None:
    """Asked for a port another redis-server holds, start_redis fails rather than share it."""
    first = start_redis()
    try:
        with pytest.raises(RuntimeError):
            start_redis(port=urlsplit(first.url).port)
        assert redis.Redis.from_url(first.url).ping()
    finally:
        first.stop()


def test_two_embedded_postgresql_servers_are_separate_and_leave_nothing_behind() -> None:
    """Each start is its own cluster with pg_trgm; stop() ends it and removes its files."""
    one, two = start_postgres(), start_postgres()
    try:
        assert one.url != two.url
        with psycopg.connect(one.url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_trgm")
            conn.execute("CREATE TABLE only_here (id int)")
        with psycopg.connect(two.url) as conn:
            assert conn.execute("SELECT to_regclass('only_here')").fetchone() == (None,)
    finally:
        one.stop()
        two.stop()
    assert not one.base_dir.exists() and one.process.poll() is not None


@pytest.mark.parametrize(
    ("variable", "url", "db"),
    [
        ("ONCORD_TEST_REDIS_URL", "redis://127.0.0.1:{port}/3", "sqlite"),
        ("ONCORD_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:{port}/test", "postgresql"),
    ],
)
def test_a_named_server_that_does_not_answer_stops_the_run_in_one_line(variable, url, db) -> None:
    """pytest exits with a usage error naming the variable and URL, before running any test."""
    named = url.format(port=free_port())
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONCORD_TEST_")}
    env[variable] = named
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--db", db, "-p", "no:cacheprovider", "tests/test_migrations.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    (line,) = [line for line in result.stderr.splitlines() if line.strip()]
    assert line.startswith(f"ERROR: {variable}={named} does not answer: ")
