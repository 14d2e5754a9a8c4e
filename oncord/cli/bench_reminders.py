"""flask bench reminders: dispatch N due reminders (e-mail + SMS each) through real RQ workers.

The SMTP server (aiosmtpd) and the Twilio stand-in run in this process; the workers are
`python worker.py` processes, exactly as in production. Checks that every message arrived once.
"""

from __future__ import annotations

import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from redis import Redis
from rq import Queue, Worker
from sqlalchemy import func, insert, select

from oncord import create_app, migrate
from oncord.cli.bench_support import drop_postgres, scratch_database
from oncord.db import get_database
from oncord.embedded_redis import start_redis
from oncord.jobs.enqueue import enqueue_dispatch
from oncord.messaging.testing import FakeTwilio, SmtpSink
from oncord.models import (
    Appointment,
    Automation,
    AutomationSend,
    ClinikoConnection,
    Contact,
    MessagingSettings,
    SyncRun,
)

ROOT = Path(__file__).resolve().parents[2]
BENCH_DB = "oncord_bench_reminders"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _seed(app: object, due: int, now: datetime) -> None:
    """A connected clinic, a sender, one 24-hour reminder automation and `due` appointments due now."""
    database = get_database(app)  # type: ignore[arg-type]
    live = now - timedelta(hours=2)
    with database.session() as session:
        session.add(ClinikoConnection(api_key_encrypted="bench-not-a-key", shard="au1", enabled_at=live,
                                      account_subdomain="bench", created_at=live, updated_at=live))
        session.add(MessagingSettings(id=1, sender_name="Bench Physio", sender_email="hello@bench.example",
                                      sender_details="1 Bench Street, Melbourne"))
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
        contacts = [
            {"first_name": f"Patient{i}", "last_name": "Bench", "email": f"patient{i}@bench.example",
             "phone": f"04{10_000_000 + i:08d}", "email_marketing_status": "subscribed",
             "sms_marketing_status": "subscribed", "created_at": now, "updated_at": now}
            for i in range(due)
        ]
        ids = list(session.scalars(insert(Contact).returning(Contact.id), contacts))
        # Reminders due between go-live and now: starts 22-23 hours ahead.
        window = 3600 / max(due, 1)
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
@click.option("--db", "db_kind", type=click.Choice(["sqlite", "postgresql"]), default="postgresql",
              show_default=True)
@click.option("--postgres-url", default="postgresql://root@127.0.0.1:5432/test", show_default=True,
              help=f"A server where the benchmark may create the database {BENCH_DB}.")
@click.option("--redis-url", default="",
              help="A Redis database the benchmark may flush; by default it starts a private redis-server.")
def bench_reminders_command(due: int, worker_count: int, batch_size: int, db_kind: str, postgres_url: str,
                            redis_url: str) -> None:
    """Time to send `due` reminders (one e-mail and one SMS each) with real workers; none may go twice."""
    click.echo(f"machine: {platform.machine()}, {os.cpu_count()} cores, {_cpu_model()}, "
               f"Python {platform.python_version()}; database {db_kind}; {worker_count} workers")
    url = scratch_database(db_kind, postgres_url, BENCH_DB, "oncord-bench-reminders-")
    queue_name = "oncord-bench"
    private = None
    if not redis_url:
        # A private server: nothing else can flush it mid-run, and the run leaves nothing behind.
        private = start_redis()
        redis_url = private.url
    redis = Redis.from_url(redis_url)
    redis.flushdb()
    sink, twilio = SmtpSink(), FakeTwilio()
    app = create_app({"mode": "demo", "database_url": url, "redis_url": redis_url, "rq_queue": queue_name})
    migrate.upgrade(get_database(app).engine)
    now = datetime.now(UTC)
    _seed(app, due, now)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("ONCORD_", "SMTP_", "SMS_", "TWILIO_"))},
        "ONCORD_MODE": "demo", "DATABASE_URL": url, "REDIS_URL": redis_url, "ONCORD_QUEUE": queue_name,
        "PUBLIC_BASE_URL": "https://oncord.bench.example", "EMAIL_BACKEND": "smtp", "SMTP_HOST": sink.host,
        "SMTP_PORT": str(sink.port), "SMTP_TLS": "none", "SMS_PROVIDER": "twilio", "SMS_FROM": "BenchPhysio",
        "TWILIO_ACCOUNT_SID": twilio.account_sid, "TWILIO_AUTH_TOKEN": twilio.auth_token,
        "TWILIO_API_BASE_URL": twilio.base_url, "AUTOMATION_BATCH_SIZE": str(batch_size),
    }
    # Worker logs go to a file: an unread pipe fills up and blocks the workers.
    log_path = Path(tempfile.mkdtemp(prefix="oncord-bench-reminders-")) / "workers.log"
    log = log_path.open("w")
    processes = [
        subprocess.Popen([sys.executable, str(ROOT / "worker.py")], env=env, cwd=ROOT,
                         stdout=log, stderr=subprocess.STDOUT)
        for _ in range(worker_count)
    ]
    queue = Queue(queue_name, connection=redis)
    try:
        deadline = time.monotonic() + 60
        while len(Worker.all(queue=queue)) < worker_count:
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                raise click.ClickException("the workers did not start")
            time.sleep(0.1)
        expected = 2 * due
        database = get_database(app)
        started = time.perf_counter()
        enqueue_dispatch(queue, "bench")
        finished = 0
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
        with database.session() as session:
            states = Counter(dict(session.execute(
                select(AutomationSend.state, func.count()).group_by(AutomationSend.state)).tuples().all()))
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()
        sink.stop()
        twilio.stop()
        redis.flushdb()
        if private is not None:
            private.stop()
    emails = Counter(m.rcpt_tos[0] for m in sink.received)
    texts = Counter(m.to for m in twilio.received)
    twice = [a for a, n in emails.items() if n > 1] + [a for a, n in texts.items() if n > 1]
    click.echo(f"due reminders: {due:,} -> {sum(emails.values()):,} e-mails + {sum(texts.values()):,} SMS")
    click.echo(f"send states: {dict(states)}")
    rate = expected / elapsed
    click.echo(f"time: {elapsed:.1f} s from dispatch to the last message ({rate:,.0f} messages/s)")
    click.echo(f"sent twice: {len(twice)}; Twilio format violations: {len(twilio.violations)}")
    ok = not twice and states.get("sent", 0) == expected and len(emails) == due and len(texts) == due
    click.echo("result: OK" if ok else f"result: FAILED (worker log: {log_path})")
    get_database(app).engine.dispose()
    if ok:
        shutil.rmtree(log_path.parent, ignore_errors=True)
    if db_kind == "sqlite":
        shutil.rmtree(Path(url.removeprefix("sqlite:///")).parent, ignore_errors=True)
    else:
        drop_postgres(postgres_url, BENCH_DB)
    if not ok:
        raise SystemExit(1)
