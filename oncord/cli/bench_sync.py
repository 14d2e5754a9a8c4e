"""flask bench sync: a full pull of a large sandbox account, timed end to end."""

from __future__ import annotations

import cProfile
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime

import click
import requests

from oncord import context, create_app, migrate
from oncord.cli.bench_floor import measure_floor
from oncord.cli.bench_support import scratch_database
from oncord.db import get_database
from oncord.embedded_redis import free_port
from oncord.integration import connect_cliniko
from oncord.jobs.sync_jobs import run_pull
from oncord.sandbox.server import DEMO_API_KEY
from oncord.sync.launcher import create_run


def _start_sandbox(patients: int, appointments: int) -> tuple[subprocess.Popen[str], str, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "sandbox", "serve", "--port", str(port),
         "--patients", str(patients), "--appointments", str(appointments), "--no-rate-limit"],
        env={**os.environ, "ONCORD_MODE": "demo"}, stdout=subprocess.PIPE, text=True,
    )
    base_url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise click.ClickException("the sandbox did not start")
        try:
            requests.get(base_url + "/user", timeout=2)
            return process, base_url, DEMO_API_KEY
        except requests.ConnectionError:
            time.sleep(0.2)
    process.terminate()
    raise click.ClickException("the sandbox did not answer within 10 minutes")


@click.command("sync")
@click.option("--patients", default=50_000, show_default=True)
@click.option("--appointments", default=500_000, show_default=True)
@click.option("--db", "db_kind", type=click.Choice(["sqlite", "postgresql"]), default="postgresql",
              show_default=True)
@click.option("--postgres-url", default="postgresql://root@127.0.0.1:5432/test", show_default=True,
              help="A server where the benchmark may create the database oncord_bench.")
@click.option("--profile", "profile_path", default="",
              help="Write a cProfile of the pull here (read it with python -m pstats).")
def bench_sync_command(
    patients: int, appointments: int, db_kind: str, postgres_url: str, profile_path: str
) -> None:
    """Full first pull from a sandbox (rate limit off): records/s, requests, peak memory."""
    click.echo(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    click.echo(f"starting sandbox with {patients} patients / {appointments} appointments...")
    sandbox, base_url, api_key = _start_sandbox(patients, appointments)
    try:
        url = scratch_database(db_kind, postgres_url, "oncord_bench", "oncord-bench-")
        # The sandbox's rate limit is off and so is the client's pacing: this measures our side.
        app = create_app({"mode": "test", "database_url": url, "cliniko_api_base_url": base_url,
                          "cliniko_requests_per_minute": 1_000_000,
                          "cliniko_bulk_requests_per_minute": 1_000_000})
        migrate.upgrade(get_database(app).engine)
        with app.app_context(), get_database(app).session() as session:
            connect_cliniko(session, api_key=api_key, settings=context.settings(app),
                            secret_box=context.secret_box(app), clock=context.clock(app))
            run = create_run(session, full=True, trigger="bench", clock=context.clock(app))
            session.commit()
            run_id = run.id
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        if profile_path:
            profiler = cProfile.Profile()
            run = profiler.runcall(run_pull, app, run_id, full=True)
            profiler.dump_stats(profile_path)
        else:
            run = run_pull(app, run_id, full=True)
        elapsed = time.perf_counter() - started
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        click.echo("measuring the floor (the same rows loaded straight into a new database)...")
        floor = measure_floor(get_database(app).engine, db_kind, postgres_url)
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)
    records = sum(c.get("fetched", 0) for c in run.counts.values())
    click.echo(f"database: {db_kind}; finished {datetime.now(UTC).isoformat(timespec='seconds')}")
    click.echo(f"status: {run.status}")
    click.echo(f"records: {records} in {elapsed:.1f} s = {records / elapsed:,.0f} records/s")
    for name, counts in run.counts.items():
        click.echo(f"  {name:<18} {counts}")
    click.echo(f"requests: {run.requests_made} (rate-limit waits {run.rate_limit_waits})")
    click.echo(f"floor: {floor.total} rows loaded in {floor.seconds:.1f} s with {floor.method}")
    click.echo("  " + ", ".join(f"{name} {count}" for name, count in sorted(floor.rows.items())))
    click.echo(f"pull time / floor time: {elapsed / floor.seconds:.1f}")
    click.echo(f"peak RSS of the syncing process: {rss_after / 1024:.0f} MiB "
               f"(before the pull {rss_before / 1024:.0f} MiB)")
