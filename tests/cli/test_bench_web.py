"""`flask bench web`: it measures the app under gunicorn whatever ONCORD_MODE is (no figures asserted)."""

from __future__ import annotations

import os
import re

import pytest

from oncord import create_app
from oncord.cli.bench_support import drop_postgres
from oncord.db import get_database

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("mode", ["production", "demo"])
def test_bench_web_logs_its_clients_in_and_measures_without_errors(
    request, redis_url, redis_conn, tmp_path, mode
):
    """In production (Secure session cookie over the bench's plain-HTTP loopback) and in demo mode,
    every bench client logs in to gunicorn and every measured request succeeds."""
    if request.config.getoption("--db") != "postgresql":
        pytest.skip("bench web seeds PostgreSQL with COPY; the --db postgresql half runs it")
    postgres_admin_url = request.getfixturevalue("postgres_admin_url")
    app = create_app({"mode": mode, "secret_key": "bench-test-secret-" + "s" * 32,
                      "database_url": f"sqlite:///{tmp_path / 'unused.db'}", "redis_url": redis_url})
    name = f"oncord_bench_web_test_{os.getpid()}"
    try:
        with app.app_context():  # as `flask --app ...` pushes one
            result = app.test_cli_runner().invoke(args=[
                "bench", "web", "--contacts", "60", "--appointments", "200", "--clients", "3",
                "--requests-per-client", "6", "--think-ms", "10", "--workers", "1", "--threads", "2",
                "--postgres-url", postgres_admin_url, "--database", name])
    finally:
        drop_postgres(postgres_admin_url, name)
        get_database(app).engine.dispose()
    assert result.exit_code == 0, result.output
    assert f"1 worker(s) x 2 thread(s), gthread; ONCORD_MODE={mode};" in result.output
    reports = re.findall(r"requests in .* s \(.* req/s\), (\d+) errors", result.output)
    assert reports == ["0", "0", "0"], result.output
