"""`flask bench freshness`: how long a change made in Cliniko takes to be stored and acted on.

The stage: the Cliniko sandbox with its rate limit on (200 a minute, as Cliniko), a scratch
database connected to it with auto-sync on, one cancellation automation, and an ordinary
`python worker.py` (with RQ's scheduler) polling every SYNC_POLL_SECONDS. The bench then makes
`--changes` Cliniko-side changes (patient edits and cancellations, alternately) spread evenly
over `--spread-seconds`, watches the database, and prints the seconds from each change to the
moment it was stored (p50, p95), from each cancellation to its automation's send being decided
(sent or skipped, p95), and the requests a minute the worker spends while nothing changes.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import click
from flask import Flask
from sqlalchemy import select

from oncord import context
from oncord.cli.bench_support import machine_line, sending_stage
from oncord.db import get_database
from oncord.integration import connect_cliniko
from oncord.jobs.sync_jobs import run_pull
from oncord.messaging.profile import settings_row
from oncord.models import Appointment, AppointmentKind, Automation, AutomationSend, Contact
from oncord.sandbox.server import RunningSandbox, start_sandbox
from oncord.sync.launcher import create_run

BENCH_DB = "oncord_bench_freshness"


@dataclass
class Change:
    """One Cliniko-side change and when Oncord had it."""

    kind: str  # "patient" or "cancel"
    cliniko_id: str
    marker: str
    made_at: float
    stored_at: float | None = None
    acted_at: float | None = None


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (share 0.5: the median) of the values."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@click.command("freshness")
@click.option("--changes", default=100, show_default=True, help="Cliniko-side changes to make.")
@click.option("--spread-seconds", default=300.0, show_default=True,
              help="Spread the changes evenly over this long (shorter for a quick run).")
@click.option("--idle-seconds", default=180.0, show_default=True,
              help="How long to count the idle worker's requests after the changes.")
@click.option("--poll-seconds", default=60, show_default=True, help="SYNC_POLL_SECONDS of the worker.")
@click.option("--patients", default=500, show_default=True, help="Patients in the sandbox.")
@click.option("--db", "db_kind", type=click.Choice(["sqlite", "postgresql"]), default="sqlite",
              show_default=True)
@click.option("--postgres-url", default="postgresql://root@127.0.0.1:5432/test", show_default=True,
              help="A server where the benchmark may create its scratch database.")
@click.option("--database", "database_name", default=BENCH_DB, show_default=True)
@click.option("--redis-url", default="",
              help="A Redis database the benchmark may flush (default: a private one).")
def bench_freshness_command(changes: int, spread_seconds: float, idle_seconds: float, poll_seconds: int,
                            patients: int, db_kind: str, postgres_url: str, database_name: str,
                            redis_url: str) -> None:
    """Change to stored and to the automation's message, p50/p95; idle requests per minute."""
    click.echo(f"{machine_line()}; database {db_kind}; poll every {poll_seconds} s")
    sandbox = start_sandbox(patients=patients, rate_limit=200)
    try:
        with sending_stage(db_kind, postgres_url, database_name, redis_url) as stage:
            app = stage.app
            app.extensions["oncord.settings"] = replace(
                context.settings(app), cliniko_api_base_url=sandbox.base_url, sync_poll_seconds=poll_seconds
            )
            _connect_and_pull(app, sandbox.api_key)
            planned = _plan(app, changes)
            stage.start_workers(1, {"CLINIKO_API_BASE_URL": sandbox.base_url,
                                    "SYNC_POLL_SECONDS": str(poll_seconds)})
            sandbox.store.reset_requests()
            done = _make_and_watch(app, sandbox, planned, spread_seconds, poll_seconds)
            throttled = sum(1 for r in sandbox.store.request_log() if r["status"] == 429)
            sandbox.store.reset_requests()
            time.sleep(idle_seconds)
            idle = sandbox.store.request_count * 60.0 / idle_seconds
            _report(done, idle, throttled)
    finally:
        sandbox.stop()


def _connect_and_pull(app: Flask, api_key: str) -> None:
    with get_database(app).session() as session:
        connection = connect_cliniko(session, api_key=api_key, settings=context.settings(app),
                                     secret_box=context.secret_box(app), clock=context.clock(app),
                                     auto_sync=True)
        row = settings_row(session)
        row.sender_name, row.sender_email = "Bench Physio", "hello@bench.example"
        row.sender_details = "1 Bench Street, Melbourne"
        row.email_quiet_start = row.email_quiet_end = None
        now = datetime.now(UTC)
        session.add(Automation(
            name="Rebook after a cancellation", enabled=True, trigger="cancelled", offset_minutes=0,
            is_service=False, send_email=True, email_subject="Sorry we missed you, {{ first_name }}",
            email_body="Hi {{ first_name }}, rebook here: {{ book_now_url }}", send_sms=False,
            activated_at=now, planned_through=now, created_at=now, updated_at=now,
        ))
        assert connection.auto_sync
        run = create_run(session, full=False, trigger="bench", clock=context.clock(app))
        session.commit()
        run_id = run.id
    click.echo("first pull...")
    click.echo(f"  {run_pull(app, run_id, full=False).status}")


def _plan(app: Flask, count: int) -> list[tuple[str, str]]:
    """Which records to change: live patients and future, uncancelled appointments of linked contacts."""
    now = datetime.now(UTC)
    with get_database(app).session() as session:
        patients = list(session.scalars(
            select(Contact.cliniko_patient_id).where(Contact.cliniko_patient_id.is_not(None),
                                                     Contact.archived_at.is_(None)).limit(count)))
        appointments = list(session.scalars(
            select(Appointment.cliniko_id).where(Appointment.kind == AppointmentKind.INDIVIDUAL.value,
                                                 Appointment.cancelled_at.is_(None),
                                                 Appointment.archived_at.is_(None),
                                                 Appointment.contact_id.is_not(None),
                                                 Appointment.starts_at > now).limit(count)))
    plan = [("patient" if n % 2 == 0 else "cancel", "") for n in range(count)]
    picked: list[tuple[str, str]] = []
    for kind, _ in plan:
        source = patients if kind == "patient" else appointments
        if not source:
            raise click.ClickException(f"the sandbox has too few records to make {count} changes")
        picked.append((kind, str(source.pop())))
    return picked


def _make_and_watch(
    app: Flask, sandbox: RunningSandbox, planned: list[tuple[str, str]], spread: float, poll: int
) -> list[Change]:
    gap = spread / max(len(planned), 1)
    started = time.time()
    made: list[Change] = []
    deadline = started + spread + 5 * poll + 60
    while time.time() < deadline:
        now = time.time()
        while len(made) < len(planned) and now >= started + len(made) * gap:
            kind, cliniko_id = planned[len(made)]
            marker = f"Fresh{len(made)}"
            if kind == "patient":
                sandbox.store.edit_patient(cliniko_id, last_name=marker)
            else:
                sandbox.store.cancel_appointment(cliniko_id, 40, None)
            made.append(Change(kind, cliniko_id, marker, time.time()))
        _look(app, made)
        finished = all(c.stored_at and (c.kind == "patient" or c.acted_at) for c in made)
        if len(made) == len(planned) and finished:
            break
        time.sleep(0.25)
    return made


def _look(app: Flask, made: list[Change]) -> None:
    """Stamp the changes the database now shows (stored, and for cancellations the send decided)."""
    now = time.time()
    waiting = [c for c in made if c.stored_at is None or (c.kind == "cancel" and c.acted_at is None)]
    if not waiting:
        return
    with get_database(app).session() as session:
        patient_ids = [c.cliniko_id for c in waiting if c.kind == "patient"]
        names = dict(session.execute(
            select(Contact.cliniko_patient_id, Contact.last_name).where(
                Contact.cliniko_patient_id.in_(patient_ids))).all())
        cancelled = dict(session.execute(
            select(Appointment.cliniko_id, Appointment.id).where(
                Appointment.kind == AppointmentKind.INDIVIDUAL.value,
                Appointment.cliniko_id.in_([c.cliniko_id for c in waiting if c.kind == "cancel"]),
                Appointment.cancelled_at.is_not(None))).all())
        # Decided: the send exists. One held for the patient's quiet hours (a night-time run) is
        # decided too; waiting for its delivery would measure the clock, not the sync.
        decided = set(session.scalars(
            select(AutomationSend.appointment_id).where(AutomationSend.appointment_id.in_(list(cancelled.values())))))
    for change in waiting:
        if change.kind == "patient":
            if names.get(change.cliniko_id) == change.marker:
                change.stored_at = now
        elif change.cliniko_id in cancelled:
            change.stored_at = change.stored_at or now
            if cancelled[change.cliniko_id] in decided:
                change.acted_at = now


def _report(made: list[Change], idle_per_minute: float, throttled: int) -> None:
    stored = [c.stored_at - c.made_at for c in made if c.stored_at is not None]
    acted = [c.acted_at - c.made_at for c in made if c.acted_at is not None]
    cancels = sum(1 for c in made if c.kind == "cancel")
    click.echo(f"changes made: {len(made)} ({cancels} cancellations); stored: {len(stored)}; "
               f"automation decided: {len(acted)}; 429s during the changes: {throttled}")
    if stored:
        click.echo(f"change -> stored: p50 {percentile(stored, 0.5):.1f} s, "
                   f"p95 {percentile(stored, 0.95):.1f} s, max {max(stored):.1f} s (target p95 <= 90 s)")
    if acted:
        click.echo(f"cancellation -> automation's message: p95 {percentile(acted, 0.95):.1f} s")
    click.echo(f"idle: {idle_per_minute:.2f} requests/minute (target <= 6)")
