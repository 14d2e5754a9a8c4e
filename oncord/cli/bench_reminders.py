"""flask bench reminders: dispatch N due reminders (e-mail + SMS each) through real RQ workers.

The stage (oncord.cli.bench_support) runs the SMTP server and the Twilio stand-in in this process
and the workers as `python worker.py` processes, exactly as in production. Checks that every good
message arrived once and every poisoned one failed, and measures the floor in the same run.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import click
from flask import Flask
from sqlalchemy import func, insert, select

from oncord.cli.bench_delivery import (
    BenchContact,
    Deliveries,
    bench_contacts,
    insert_contacts,
    measure_floor,
    report,
    seed_clinic,
)
from oncord.cli.bench_support import machine_line, sending_stage, stage_options
from oncord.db import get_database
from oncord.jobs.enqueue import enqueue_dispatch
from oncord.models import (
    Appointment,
    Automation,
    AutomationSend,
    SyncRun,
)

BENCH_DB = "oncord_bench_reminders"
CHANNELS = ("email", "sms")


def _seed(app: Flask, people: list[BenchContact], now: datetime) -> None:
    """A connected clinic, a sender, one 24-hour reminder automation and an appointment due now for
    each of `people`."""
    live = now - timedelta(hours=2)
    with get_database(app).session() as session:
        seed_clinic(session, live)
        session.add(SyncRun(kind="pull_incremental", trigger="bench", status="succeeded", queued_at=now,
                            started_at=now, finished_at=now, counts={}, problems=[]))
        session.add(Automation(
            name="Bench reminder", enabled=True, trigger="upcoming", offset_minutes=24 * 60, is_service=True,
            send_email=True, email_subject="Reminder: {{ appointment_type }} on {{ appointment_date }}",
            email_body="Hi {{ first_name }}, see you {{ appointment_start }} at {{ business }}.",
            send_sms=True, sms_body="Hi {{ first_name }}, reminder: {{ appointment_start }}.",
            activated_at=live, planned_through=live, created_at=live, updated_at=live,
        ))
        session.commit()
        ids = insert_contacts(session, people, now)
        # Reminders due between go-live and now: starts 22-23 hours ahead.
        window = 3600 / max(len(people), 1)
        appointments = [
            {"cliniko_id": f"{900_000_000 + i}", "contact_id": contact_id,
             "starts_at": now + timedelta(hours=22, seconds=1 + i * window),
             "ends_at": now + timedelta(hours=22, minutes=45, seconds=1 + i * window),
             "cliniko_created_at": now - timedelta(days=10), "cliniko_updated_at": now - timedelta(days=10)}
            for i, contact_id in enumerate(ids)
        ]
        session.execute(insert(Appointment), appointments)
        session.commit()


@click.command("reminders")
@click.option("--due", default=10_000, show_default=True, help="How many reminders are due at once.")
@click.option("--workers", "worker_count", default=2, show_default=True)
@click.option("--batch-size", default=500, show_default=True,
              help="Sends per RQ job (AUTOMATION_BATCH_SIZE).")
@stage_options(BENCH_DB)
def bench_reminders_command(due: int, worker_count: int, batch_size: int, poison_percent: float, db_kind: str,
                            postgres_url: str, database_name: str, redis_url: str) -> None:
    """Time to send `due` reminders (one e-mail and one SMS each) with real workers; none may go twice."""
    click.echo(f"{machine_line()}; database {db_kind}; {worker_count} workers")
    with sending_stage(db_kind, postgres_url, database_name, redis_url) as stage:
        people = bench_contacts(due, poison_percent, stage.sink, stage.twilio)
        _seed(stage.app, people, datetime.now(UTC))
        stage.start_workers(worker_count, {"AUTOMATION_BATCH_SIZE": str(batch_size)})
        expected = len(CHANNELS) * due
        database = get_database(stage.app)
        started = time.perf_counter()
        enqueue_dispatch(stage.queue, "bench")
        while True:
            with database.session() as session:
                finished = session.scalar(
                    select(func.count()).select_from(AutomationSend)
                    .where(AutomationSend.state.in_(["sent", "skipped", "failed"]))
                ) or 0
            if finished >= expected:
                break
            if time.perf_counter() - started > 900:
                raise click.ClickException(f"gave up after 15 minutes with {finished} of {expected} done")
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        stage.stop_workers()
        with database.session() as session:
            states = Counter({state: n for state, n in session.execute(
                select(AutomationSend.state, func.count()).group_by(AutomationSend.state)).all()})
        deliveries = Deliveries.at(stage.sink, stage.twilio)
        violations = len(stage.twilio.violations)
        floor = measure_floor(stage.sink, stage.twilio, due, due)
        click.echo(f"due reminders: {due:,} -> {sum(deliveries.emails.values()):,} e-mails + "
                   f"{sum(deliveries.texts.values()):,} SMS; Twilio format violations: {violations}")
        ok = report(elapsed, expected, deliveries, people, CHANNELS, states, floor) and not violations
        if not ok:
            raise SystemExit(1)
