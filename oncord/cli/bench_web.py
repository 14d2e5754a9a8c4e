"""flask bench web: contacts list, search and contact page latency under 50 concurrent staff.

Seeds a scratch PostgreSQL database (100,000 contacts and 1,000,000 appointments by default)
with COPY, serves the app with gunicorn under the project's gunicorn.conf.py (the production
configuration), and drives it with concurrent logged-in clients. Prints p50/p95 per endpoint.
"""

from __future__ import annotations

import os
import platform
import random
import re
import runpy
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import click
import requests
from sqlalchemy import Engine, text

from oncord import context, create_app, migrate
from oncord.cli.bench_support import copy_rows, ids, scratch_postgres
from oncord.db import make_engine
from oncord.resources import resource_path

BENCH_DB = "oncord_bench_web"
BENCH_EMAIL = "bench@oncord.example"
BENCH_PASSWORD = "bench-password-1"
TARGET_P95_MS = 50.0

FIRST = """Olivia Noah Charlotte Oliver Amelia Jack Isla William Mia Leo Ava Henry Grace Lucas Chloe
Thomas Zoe James Ruby Ethan Sophie Liam Emily Harrison Ella Mason Ivy Hudson Matilda Archie Willow Oscar
Lily Hunter Sienna Charlie Evie Max Cooper Harper Lachlan Aria Xavier Hazel Angus Layla Finn Priya Arjun
Mei Wei Hana Kenji Fatima Omar Sofia Mateo Elena Luca Aisha Yusuf Nadia Tariq""".split()
LAST = """Smith Jones Williams Brown Wilson Taylor Nguyen Johnson Martin White Anderson Walker Thompson
Harris Lee Ryan Robinson Kelly King Davis Wright Evans Roberts Green Hall Wood Jackson Clarke Patel Khan
Singh Chen Wang Li Zhang Tran Pham Kaur Murphy OBrien Campbell Stewart Mitchell Young Scott Edwards Hughes
Baker Turner Phillips Parker Cook Hill Morris Ward Watson Bennett Gray James Russell Cooper Lewis Price
Bell Kennedy Fraser Hamilton Graham Reid Ross Henderson Murray Marshall Wallace Dunn Fitzgerald
Papadopoulos Rossi Costa Silva Santos Novak Kowalski Jensen Larsen Muller Schmidt Dubois""".split()
# What a receptionist types: surname prefixes, full names, e-mail and phone fragments.
SEARCHES = ("smi", "smith", "ngu", "olivia sm", "will", "patel", "mar", "jo", "tho", "kelly", "grace w",
            "0412", "0491 5", "olivia.sm", "chen", "fitzg", "lee", "har", "ross", "henderson")


@dataclass
class Timings:
    """Latencies (ms) per endpoint label."""

    samples: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, label: str, ms: float) -> None:
        """Record one request."""
        with self.lock:
            self.samples.setdefault(label, []).append(ms)


def _percentile(values: list[float], pct: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def seed(engine: Engine, contacts: int, appointments: int, now: datetime,
         echo: Callable[[str], None]) -> None:
    """Fill an empty database: reference lists, contacts, appointments and one feed entry each."""
    rng = random.Random(20261125)
    started = time.perf_counter()
    copy_rows(engine, "practitioners", ("cliniko_id", "display_name", "active"),
          ((str(9000 + i), f"Dr {rng.choice(FIRST)} {rng.choice(LAST)}", True) for i in range(12)))
    copy_rows(engine, "appointment_types", ("cliniko_id", "name", "duration_in_minutes"),
          ((str(8000 + i), name, 45) for i, name in enumerate(
              ["Initial consultation", "Standard consultation", "Long consultation", "Hydrotherapy",
               "Pilates class", "Telehealth", "Review", "Remedial massage"])))
    practitioners, kinds = ids(engine, "practitioners"), ids(engine, "appointment_types")
    statuses = ("subscribed", "subscribed", "pending", "pending", "pending", "unsubscribed")

    def contact_rows() -> Iterator[tuple[Any, ...]]:
        for i in range(contacts):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            phone = f"04{rng.randint(0, 99):02d} {rng.randint(0, 999):03d} {rng.randint(0, 999):03d}"
            created = now - timedelta(days=rng.randint(0, 2000))
            yield (first, last, f"{first}.{last}{i}@example.com".lower(), phone, rng.choice(statuses),
                   rng.choice(statuses), str(10_000_000 + i) if i % 10 else None, created, created)

    copy_rows(engine, "contacts", ("first_name", "last_name", "email", "phone", "email_marketing_status",
                               "sms_marketing_status", "cliniko_patient_id", "created_at", "updated_at"),
          contact_rows())
    echo(f"  {contacts:,} contacts in {time.perf_counter() - started:.0f} s")
    contact_ids = ids(engine, "contacts")

    def appointment_rows() -> Iterator[tuple[Any, ...]]:
        for i in range(appointments):
            starts = now + timedelta(minutes=15 * rng.randint(-4 * 24 * 730, 4 * 24 * 60))
            past, roll = starts < now, rng.random()
            cancelled = starts - timedelta(days=1) if roll > 0.9 else None
            arrived = past and roll < 0.82 if not cancelled else None
            missed = past and 0.82 <= roll < 0.9 if not cancelled else None
            yield (str(20_000_000 + i), rng.choice(contact_ids), rng.choice(practitioners), rng.choice(kinds),
                   starts, starts + timedelta(minutes=45), arrived, missed, cancelled,
                   starts - timedelta(days=7))

    copy_rows(engine, "appointments", ("cliniko_id", "contact_id", "practitioner_id", "appointment_type_id",
                                   "starts_at", "ends_at", "patient_arrived", "did_not_arrive",
                                   "cancelled_at", "cliniko_created_at"), appointment_rows())
    echo(f"  {appointments:,} appointments in {time.perf_counter() - started:.0f} s")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, contact_id, cliniko_created_at FROM appointments")).all()
    copy_rows(engine, "activity_events", ("contact_id", "kind", "occurred_at", "appointment_id", "details",
                                      "created_at"),
          ((contact_id, "appointment_booked", booked, appointment_id, "{}", booked)
           for appointment_id, contact_id, booked in rows))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # As autovacuum would: statistics, and the visibility map index-only scans rely on.
        conn.execute(text("VACUUM ANALYZE"))
    echo(f"  {len(rows):,} activity events; seeded in {time.perf_counter() - started:.0f} s")


class Gunicorn:
    """gunicorn with the project's gunicorn.conf.py on a loopback socket the bench made."""

    def __init__(self, env: dict[str, str], workers: int | None, threads: int | None) -> None:
        self.config = resource_path("gunicorn.conf.py")
        settings = runpy.run_path(self.config)
        self.workers = workers or settings["workers"]
        self.threads = threads or settings["threads"]
        self.worker_class = settings["worker_class"]
        listener = socket.create_server(("127.0.0.1", 0), backlog=1024)
        self.base = f"http://127.0.0.1:{listener.getsockname()[1]}"
        self.log = tempfile.NamedTemporaryFile(prefix="oncord-bench-gunicorn-", suffix=".log")
        fd = listener.fileno()
        # The access log (stdout) is written as in production, then discarded.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", self.config, "--bind", f"fd://{fd}",
             "--workers", str(self.workers), "--threads", str(self.threads)],
            env=env, pass_fds=[fd], stdout=subprocess.DEVNULL, stderr=self.log)
        # gunicorn holds the socket now; closing ours lets a crashed server refuse connections.
        listener.close()

    def check(self) -> None:
        """Stop the bench with gunicorn's own log when it has exited."""
        if self.process.poll() is not None:
            self.log.seek(0)
            log = self.log.read().decode(errors="replace")[-4000:]
            raise click.ClickException(f"gunicorn exited with {self.process.returncode}:\n{log}")

    def stop(self) -> None:
        """Shut gunicorn down gracefully (SIGTERM), then forcibly if it lingers."""
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


class _LoopbackClient(requests.Session):
    """A staff member's browser talking plain HTTP to the bench's own loopback server.

    In production the session cookie is Secure. Browsers send Secure cookies to loopback over plain
    HTTP; requests does not, so this client, which only ever talks to that one origin, sends its
    cookie jar itself. The app's cookie settings stay exactly as in production.
    """

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        """The request with every cookie in the jar, Secure ones included."""
        prepared = super().prepare_request(request)
        if self.cookies:
            prepared.headers["Cookie"] = "; ".join(f"{c.name}={c.value}" for c in self.cookies)
        return prepared


def _log_in(base: str) -> requests.Session:
    session = _LoopbackClient()
    page = session.get(base + "/login", timeout=30).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    token = token or re.search(r'"X-CSRFToken": "([^"]+)"', page)
    assert token, "no CSRF token on the login page"
    form = {"email": BENCH_EMAIL, "password": BENCH_PASSWORD, "csrf_token": token.group(1)}
    response = session.post(base + "/login", data=form, allow_redirects=False, timeout=30)
    if response.status_code != 303:
        raise click.ClickException(f"bench login failed with HTTP {response.status_code}")
    return session


def _endpoints(contact_count: int, rng: random.Random) -> list[tuple[str, Callable[[], tuple[str, dict]]]]:
    htmx = {"HX-Request": "true"}
    return [
        ("contacts list (page)", lambda: ("/contacts", {})),
        ("contacts search (htmx)", lambda: (f"/contacts?q={rng.choice(SEARCHES)}", htmx)),
        ("contact page", lambda: (f"/contacts/{rng.randint(1, contact_count)}", {})),
    ]


def _drive(base: str, clients: int, per_client: int, contact_count: int, timings: Timings,
           think_ms: float = 0) -> float:
    sessions = [_log_in(base) for _ in range(clients)]
    barrier = threading.Barrier(clients + 1)

    def client(number: int) -> None:
        rng = random.Random(number)
        endpoints = _endpoints(contact_count, rng)
        session = sessions[number]
        barrier.wait()
        for i in range(per_client):
            label, make = endpoints[(i + number) % len(endpoints)]
            path, headers = make()
            if think_ms:
                time.sleep(rng.uniform(0.5, 1.5) * think_ms / 1000)  # a person reading, then clicking
            start = time.perf_counter()
            try:
                response = session.get(base + path, headers=headers, timeout=60)
                error = None if response.status_code == 200 else f"HTTP {response.status_code}"
            except requests.RequestException as exc:
                error = type(exc).__name__
            elapsed = (time.perf_counter() - start) * 1000
            if error is None:
                timings.add(label, elapsed)
            else:
                with timings.lock:
                    timings.errors[error] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def _report(title: str, timings: Timings, seconds: float, echo: Callable[[str], None]) -> None:
    total = sum(len(v) for v in timings.samples.values())
    echo(f"\n{title}: {total:,} requests in {seconds:.1f} s ({total / seconds:,.0f} req/s), "
         f"{timings.errors.total()} errors {dict(timings.errors) or ''}")
    echo(f"  {'endpoint':<26} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for label, values in timings.samples.items():
        p95 = _percentile(values, 95)
        flag = "" if p95 < TARGET_P95_MS else "  (over the 50 ms target)"
        echo(f"  {label:<26} {len(values):>6} {_percentile(values, 50):>8.1f} {p95:>8.1f} "
             f"{max(values):>8.1f}{flag}")


@click.command("web")
@click.option("--contacts", default=100_000, show_default=True)
@click.option("--appointments", default=1_000_000, show_default=True)
@click.option("--clients", default=50, show_default=True, help="Concurrent logged-in clients.")
@click.option("--requests-per-client", "per_client", default=30, show_default=True)
@click.option("--think-ms", default=1000, show_default=True,
              help="Average pause of each client between requests in the realistic run.")
@click.option("--workers", type=int, help="gunicorn worker processes [default: gunicorn.conf.py's].")
@click.option("--threads", type=int, help="Threads per worker [default: gunicorn.conf.py's].")
@click.option("--postgres-url", envvar="ONCORD_BENCH_POSTGRES_URL",
              default="postgresql://root@127.0.0.1:5432/test", show_default=True,
              help="A PostgreSQL server where a scratch database may be created.")
@click.option("--database", "database_name", default=BENCH_DB, show_default=True,
              help="Name of the scratch database.")
@click.option("--reuse", is_flag=True, help="Keep the seeded scratch database from an earlier run.")
def bench_web_command(contacts: int, appointments: int, clients: int, per_client: int, think_ms: int,
                      workers: int | None, threads: int | None, postgres_url: str, database_name: str,
                      reuse: bool) -> None:
    """Seed a scratch PostgreSQL database and measure the contacts screens under load."""
    echo = click.echo
    settings = context.settings()
    url, seeded = scratch_postgres(postgres_url, database_name, reuse)
    engine = make_engine(url)
    migrate.upgrade(engine)
    now = datetime.now(UTC)
    if not seeded:
        echo(f"Seeding {database_name} with {contacts:,} contacts and {appointments:,} appointments "
             "(COPY)...")
        seed(engine, contacts, appointments, now, echo)
    with engine.connect() as conn:
        contact_count = conn.scalar(text("SELECT count(*) FROM contacts")) or 1
    overrides = {"mode": settings.mode, "secret_key": settings.secret_key, "database_url": url,
                 "redis_url": settings.redis_url, "rq_queue": "oncord-bench"}
    app = create_app(overrides)
    with app.app_context():
        from oncord.accounts.users import ensure_admin, set_password
        from oncord.db import get_database

        with get_database(app).session() as session:
            user, _ = ensure_admin(session, email=BENCH_EMAIL, clock=context.clock(app))
            set_password(user, BENCH_PASSWORD)
            session.commit()
        get_database(app).engine.dispose()
    engine.dispose()

    # gunicorn's app reads the environment: the same settings as the bench's own app above.
    env = {**os.environ, "ONCORD_MODE": settings.mode, "SECRET_KEY": settings.secret_key,
           "ONCORD_ENCRYPTION_KEY": settings.encryption_key, "DATABASE_URL": url,
           "REDIS_URL": settings.redis_url, "ONCORD_QUEUE": "oncord-bench"}
    server = Gunicorn(env, workers, threads)
    base = server.base
    try:
        echo(f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
             f"gunicorn ({server.config}): {server.workers} worker(s) x {server.threads} thread(s), "
             f"{server.worker_class}; ONCORD_MODE={settings.mode}; "
             f"PostgreSQL scratch database {database_name}; "
             f"load average {os.getloadavg()[0]:.1f} before the run")
        warm = Timings()
        try:
            _drive(base, 4, 30, contact_count, warm)  # boot every worker, warm caches and pools
        except (requests.RequestException, click.ClickException):
            server.check()
            raise
        single = Timings()
        seconds = _drive(base, 1, 90, contact_count, single)
        _report("1 client (service time)", single, seconds, echo)
        busy = Timings()
        seconds = _drive(base, clients, per_client, contact_count, busy, think_ms)
        _report(f"{clients} concurrent clients, ~{think_ms} ms pause between requests", busy, seconds, echo)
        flat_out = Timings()
        seconds = _drive(base, clients, per_client, contact_count, flat_out)
        _report(f"{clients} concurrent clients, no pause (saturation)", flat_out, seconds, echo)
    finally:
        server.stop()
