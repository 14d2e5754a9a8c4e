"""`make run`: everything a demo needs in one process tree, on SQLite and an embedded Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime

import click
from flask import Flask
from sqlalchemy import select
from werkzeug.security import generate_password_hash
from werkzeug.serving import run_simple

from oncord import context, create_app, migrate
from oncord.automations.journeys.recipes import BY_KEY, turn_on
from oncord.bookings.settings import clinic_settings, update_clinic_settings
from oncord.bookings.urls import parse_bookings_url
from oncord.cliniko.errors import ClinikoError
from oncord.cliniko.shards import web_base_url
from oncord.db import get_database
from oncord.embedded_redis import start_redis
from oncord.integration import active_connection, connect_cliniko
from oncord.jobs.sync_jobs import run_pull
from oncord.messaging.profile import settings_row
from oncord.models import Automation, User
from oncord.sandbox.server import start_sandbox
from oncord.sync.launcher import create_run

DEMO_EMAIL = "admin@demo.clinic"
DEMO_PASSWORD = "demo-clinic-2026"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _ensure_admin(app) -> None:
    with get_database(app).session() as session:
        if session.scalars(select(User).where(User.email == DEMO_EMAIL)).first() is None:
            session.add(
                User(
                    email=DEMO_EMAIL,
                    password_hash=generate_password_hash(DEMO_PASSWORD),
                    role="admin",
                    active=True,
                    created_at=datetime.now(UTC),
                )
            )
            session.commit()


def _seed_clinic_settings(session, connection, clock) -> None:
    """A sender and a bookings address, so automations and the Book Now page work at once."""
    name = connection.account_name or "Demo clinic"
    sender = settings_row(session)
    if not sender.sender_email:
        sender.sender_name = name
        sender.sender_email = "hello@demo.clinic"
        sender.sender_details = f"{name}, 1 Demo Street, Fitzroy VIC 3065, (03) 9000 0000"
        sender.updated_at = clock.now()
    if clinic_settings(session).bookings_url is None and connection.account_subdomain:
        url = web_base_url(connection.account_subdomain, connection.shard) + "/bookings"
        update_clinic_settings(session, clinic_name=name, bookings_url=parse_bookings_url(url), clock=clock)


# A newcomer sees automations work from the first minute: a service reminder and a follow-up.
DEMO_RECIPES = ("reminder-24h", "did-not-arrive")


def seed_demo_recipes(session, clock) -> list[Automation]:
    """Switch the demo's two recipes on, once: a demo that already has automations is left as it is."""
    if session.scalar(select(Automation.id).limit(1)) is not None:
        return []
    return [turn_on(session, BY_KEY[key], clock) for key in DEMO_RECIPES]


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def demo_public_base_url(host: str, port: int, environ: dict[str, str] | None = None) -> str:
    """Where the demo's message links point: PUBLIC_BASE_URL if set, else the address it serves."""
    env = os.environ if environ is None else environ
    if env.get("PUBLIC_BASE_URL"):
        return env["PUBLIC_BASE_URL"]
    # A wildcard bind is not an address a browser can open; loopback is where the demo is.
    shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(host, host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def run_demo(*, host: str, port: int, patients: int, sandbox_port: int) -> None:
    """Start Redis, the Cliniko sandbox, a worker and the web app; sync once; serve until Ctrl-C."""
    os.makedirs(os.path.join(ROOT, "instance"), exist_ok=True)
    # Stop cleanly (worker, sandbox, Redis) on SIGTERM as on Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    click.echo("Starting Redis...")
    redis_server = start_redis(data_dir=os.path.join(ROOT, "instance"))
    click.echo(f"Starting the Cliniko sandbox with {patients} demo patients...")
    sandbox = start_sandbox(patients=patients, port=sandbox_port, rate_limit=None)
    worker = None
    try:
        public_url = demo_public_base_url(host, port)
        overrides = {"mode": "demo", "redis_url": redis_server.url, "cliniko_api_base_url": sandbox.base_url,
                     "public_base_url": public_url}
        app = create_app(overrides)
        migrate.upgrade(get_database(app).engine)
        _ensure_admin(app)
        with app.app_context(), get_database(app).session() as session:
            if active_connection(session) is None:
                try:
                    connect_cliniko(
                        session,
                        api_key=sandbox.api_key,
                        settings=context.settings(app),
                        secret_box=context.secret_box(app),
                        clock=context.clock(app),
                    )
                except ClinikoError as exc:
                    raise click.ClickException(exc.user_message) from exc
                session.commit()
            _seed_clinic_settings(session, active_connection(session), context.clock(app))
            seed_demo_recipes(session, context.clock(app))
            session.commit()
            run = create_run(session, full=False, trigger="demo", clock=context.clock(app))
            session.commit()
            run_id = run.id
        click.echo("Running the first sync...")
        run = run_pull(app, run_id, full=False)
        click.echo(
            f"  {run.status}: "
            + ", ".join(
                f"{name} {c.get('created', 0) + c.get('updated', 0)}" for name, c in run.counts.items()
            )
        )
        env = {
            **os.environ,
            "ONCORD_MODE": "demo",
            "REDIS_URL": redis_server.url,
            "CLINIKO_API_BASE_URL": sandbox.base_url,
            "DATABASE_URL": context.settings(app).database_url,
            # The worker sends the messages, so its unsubscribe links need the served port too.
            "PUBLIC_BASE_URL": public_url,
        }
        # Own session: Ctrl-C reaches only this process, which then stops the worker before Redis.
        worker = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "worker.py")], env=env, cwd=ROOT, start_new_session=True
        )
        click.echo("")
        click.echo(f"  Oncord is running at http://{host}:{port}/ (links in messages: {public_url})")
        click.echo(f"  Log in as {DEMO_EMAIL} with password {DEMO_PASSWORD}")
        click.echo(f"  Cliniko sandbox: {sandbox.base_url} (API key {sandbox.api_key})")
        click.echo("  Press Ctrl-C to stop.")
        # Not app.run(): Flask ignores that inside a `flask` CLI command.
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=10)
        sandbox.stop()
        redis_server.stop()


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--patients", default=300, show_default=True)
@click.option("--sandbox-port", default=8765, show_default=True)
def demo_command(host: str, port: int, patients: int, sandbox_port: int) -> None:
    """Run the app with demo data (web app, worker, Redis, Cliniko sandbox)."""
    run_demo(host=host, port=port, patients=patients, sandbox_port=sandbox_port)


def init_app(app: Flask) -> None:
    """Register `flask demo` on the app's CLI."""
    app.cli.add_command(demo_command)
