"""What the `flask bench` commands share: scratch databases, bulk loading, and the sending stage.

The sending stage (`sending_stage`) is what the message benches run on: a migrated scratch
database, a Redis (a private redis-server unless one is named), the SMTP server (aiosmtpd) and
the Twilio stand-in in this process, and ordinary `python worker.py` processes pointed at them.
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from flask import Flask
from redis import Redis
from rq import Queue, Worker
from sqlalchemy import Engine, create_engine, text

from oncord import create_app, migrate
from oncord.db import get_database
from oncord.embedded_redis import EmbeddedRedis, start_redis
from oncord.messaging.testing import FakeTwilio, SmtpSink

ROOT = Path(__file__).resolve().parents[2]
QUEUE = "oncord-bench"


def _admin_engine(admin_url: str) -> Engine:
    # CREATE/DROP DATABASE cannot run inside a transaction.
    return create_engine(
        admin_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )


def scratch_postgres(admin_url: str, name: str, reuse: bool = False) -> tuple[str, bool]:
    """Create (or with reuse, keep) the database `name`; (its url, whether it already existed)."""
    admin = _admin_engine(admin_url)
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not (reuse and exists):
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name, bool(reuse and exists)


def scratch_database(kind: str, postgres_url: str, name: str, prefix: str) -> str:
    """A fresh empty database: a SQLite file in a new temporary folder, or the PostgreSQL `name`."""
    if kind == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp(prefix=prefix)}/bench.db"
    return scratch_postgres(postgres_url, name)[0]


def drop_postgres(admin_url: str, name: str) -> None:
    """Drop the scratch PostgreSQL database `name`, closing any connections to it."""
    admin = _admin_engine(admin_url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def copy_rows(engine: Engine, table: str, columns: tuple[str, ...], rows: Iterator[tuple[Any, ...]]) -> None:
    """Load rows into a PostgreSQL table with COPY (far faster than INSERT for a seed)."""
    raw = engine.raw_connection()
    try:
        with raw.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


def ids(engine: Engine, table: str) -> list[int]:
    """Every id in a table, in order."""
    with engine.connect() as conn:
        return list(conn.scalars(text(f"SELECT id FROM {table} ORDER BY id")))


def machine_line() -> str:
    """The machine a figure was measured on, with its load average right now (the CPU is shared)."""
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    return (f"machine: {platform.machine()}, {os.cpu_count()} cores, {model}, Python "
            f"{platform.python_version()}; load average {load}")


def stage_options(database: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """The options every sending bench takes: poison, and where its database and Redis are."""
    options = [
        click.option("--poison-percent", default=0.0, show_default=True,
                     help="Share of contacts whose messages must fail (CR/LF, invalid, 550, Twilio 21610)."),
        click.option("--db", "db_kind", type=click.Choice(["sqlite", "postgresql"]), default="postgresql",
                     show_default=True),
        click.option("--postgres-url", default="postgresql://root@127.0.0.1:5432/test", show_default=True,
                     help="A server where the benchmark may create its scratch database."),
        click.option("--database", "database_name", default=database, show_default=True,
                     help="Name of the scratch PostgreSQL database."),
        click.option("--redis-url", default="",
                     help="A Redis database the benchmark may flush (default: a private redis-server)."),
    ]

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


@dataclass
class SendingStage:
    """A scratch database, Redis, the SMTP and Twilio stand-ins, and the workers once started."""

    app: Flask
    url: str
    redis_url: str
    sink: SmtpSink
    twilio: FakeTwilio
    log_path: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def redis(self) -> Redis:
        """A connection to the stage's Redis."""
        return Redis.from_url(self.redis_url)

    @property
    def queue(self) -> Queue:
        """The queue the workers work."""
        return Queue(QUEUE, connection=self.redis)

    def worker_env(self, extra: dict[str, str]) -> dict[str, str]:
        """The environment of a worker: this one without Oncord's settings, then the stage's."""
        mine = ("ONCORD_", "SMTP_", "SMS_", "TWILIO_", "AUTOMATION_", "CAMPAIGN_")
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith(mine)},
            "ONCORD_MODE": "demo", "DATABASE_URL": self.url, "REDIS_URL": self.redis_url,
            "ONCORD_QUEUE": QUEUE, "PUBLIC_BASE_URL": "https://oncord.bench.example",
            "EMAIL_BACKEND": "smtp", "SMTP_HOST": self.sink.host, "SMTP_PORT": str(self.sink.port),
            "SMTP_TLS": "none", "SMS_PROVIDER": "twilio", "SMS_FROM": "BenchPhysio",
            "TWILIO_ACCOUNT_SID": self.twilio.account_sid, "TWILIO_AUTH_TOKEN": self.twilio.auth_token,
            "TWILIO_API_BASE_URL": self.twilio.base_url, **extra,
        }

    def start_workers(self, count: int, extra_env: dict[str, str]) -> None:
        """Start `count` `python worker.py` processes and wait until each has registered."""
        # Worker logs go to a file: an unread pipe fills up and blocks the workers.
        log = self.log_path.open("a")
        env = self.worker_env(extra_env)
        self.processes = [
            subprocess.Popen([sys.executable, str(ROOT / "worker.py")], env=env, cwd=ROOT,
                             stdout=log, stderr=subprocess.STDOUT)
            for _ in range(count)
        ]
        log.close()
        deadline = time.monotonic() + 60
        while len(Worker.all(queue=self.queue)) < count:
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                raise click.ClickException(f"the workers did not start (log: {self.log_path})")
            time.sleep(0.1)

    def stop_workers(self) -> None:
        """Stop the workers as a deployment does (SIGTERM: finish the job in hand), then for sure."""
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes = []


@contextmanager
def sending_stage(db_kind: str, postgres_url: str, database: str, redis_url: str) -> Iterator[SendingStage]:
    """Set the stage up for one bench run and take it all down afterwards (the database too).

    The worker log is kept (and named) only when the run raised.
    """
    url = scratch_database(db_kind, postgres_url, database, f"{database}-")
    private: EmbeddedRedis | None = None
    if not redis_url:
        # A private server: nothing else can flush it mid-run, and the run leaves nothing behind.
        private = start_redis()
        redis_url = private.url
    Redis.from_url(redis_url).flushdb()
    sink, twilio = SmtpSink(), FakeTwilio()
    app = create_app({"mode": "demo", "database_url": url, "redis_url": redis_url, "rq_queue": QUEUE})
    migrate.upgrade(get_database(app).engine)
    log_path = Path(tempfile.mkdtemp(prefix=f"{database}-log-")) / "workers.log"
    stage = SendingStage(app, url, redis_url, sink, twilio, log_path)
    failed = True
    try:
        yield stage
        failed = False
    finally:
        stage.stop_workers()
        sink.stop()
        twilio.stop()
        Redis.from_url(redis_url).flushdb()
        if private is not None:
            private.stop()
        get_database(app).engine.dispose()
        if failed:
            click.echo(f"worker log: {log_path}", err=True)
        else:
            shutil.rmtree(log_path.parent, ignore_errors=True)
        if db_kind == "sqlite":
            shutil.rmtree(Path(url.removeprefix("sqlite:///")).parent, ignore_errors=True)
        else:
            drop_postgres(postgres_url, database)
