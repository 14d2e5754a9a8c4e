"""flask bench <name>: benchmarks that print figures (speed targets live here, not in tests)."""

from __future__ import annotations

from flask import Flask
from flask.cli import AppGroup

bench_group = AppGroup("bench", help="Benchmarks; each prints what it measured.")


def register_benchmarks() -> AppGroup:
    """Attach every benchmark command to the bench group."""
    from oncord.cli import (
        bench_audience,
        bench_campaign,
        bench_freshness,
        bench_journeys,
        bench_reminders,
        bench_sync,
    )

    bench_group.add_command(bench_sync.bench_sync_command)
    bench_group.add_command(bench_reminders.bench_reminders_command)
    bench_group.add_command(bench_campaign.bench_campaign_command)
    bench_group.add_command(bench_audience.bench_audience_command)
    bench_group.add_command(bench_freshness.bench_freshness_command)
    bench_group.add_command(bench_journeys.bench_journeys_command)
    try:
        from oncord.cli import bench_web
    except ImportError:
        return bench_group
    bench_group.add_command(bench_web.bench_web_command)
    return bench_group


def init_app(app: Flask) -> None:
    """Register `flask bench` and its benchmarks on the app's CLI."""
    app.cli.add_command(register_benchmarks())
