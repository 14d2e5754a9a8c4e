"""`flask bench freshness` at a tiny size, with a 2-second poll: every change is stored and acted on."""

from __future__ import annotations

import re

import pytest

from oncord import create_app
from oncord.db import get_database
from oncord.sync.pull import RESOURCES
from tests.cli.test_bench_messages import _bench_database

pytestmark = pytest.mark.slow


def test_a_short_freshness_run_stores_every_change_and_reports_its_figures(request, redis_url, tmp_path):
    """Four changes over 4 s with polls every 2 s: all stored, cancellations acted on, figures printed."""
    app = create_app({"mode": "demo", "database_url": f"sqlite:///{tmp_path / 'unused.db'}",
                      "redis_url": redis_url})
    try:
        with app.app_context():
            result = app.test_cli_runner().invoke(args=[
                "bench", "freshness", "--changes", "4", "--spread-seconds", "4", "--idle-seconds", "6",
                "--poll-seconds", "2", "--patients", "40", "--redis-url", redis_url,
                *_bench_database(request, "oncord_bench_freshness_test")])
    finally:
        get_database(app).engine.dispose()
    assert result.exit_code == 0, (result.output, repr(result.exception))
    counts = "changes made: 4 (2 cancellations); stored: 4; automation decided: 2; 429s during the changes: 0"
    assert counts in result.output, result.output
    stored = re.search(r"change -> stored: p50 ([0-9.]+) s, p95 ([0-9.]+) s", result.output)
    assert stored and float(stored.group(2)) < 30, result.output
    idle = re.search(r"idle: ([0-9.]+) requests/minute", result.output)
    # One request per polled resource every 2 s (30 polls a minute); the slow lists are not due
    # within the run. Half as much again allows for a poll that ran late and one that caught up.
    polled = sum(1 for resource in RESOURCES if not resource.slow)
    assert idle and 0 < float(idle.group(1)) <= polled * 30 * 1.5, result.output
