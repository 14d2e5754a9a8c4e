"""flask bench journeys: N enrolments across 5 journeys, advanced by real `python worker.py` processes.

The steps fall due spread over the run (each enrolment's first step at a moment within --spread
seconds, its last ones a wait later). The bench enqueues a dispatcher pass every --tick seconds, as
the schedule does each minute, and both workers take passes. Each step's lateness is measured from its
due time to the moment its step-run row was written (a PostgreSQL trigger stamps clock_timestamp(),
so the figure is the database's, not the pass's `now`); the database's unique key (enrolment, step)
is what keeps a step to one run, and the bench checks no step ran twice or went missing.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from sqlalchemy import func, insert, select, text

from oncord.automations.journeys.steps import Step, StepKind, Test, dump_steps
from oncord.cli.bench_delivery import bench_contacts, insert_contacts, seed_clinic
from oncord.cli.bench_support import SendingStage, machine_line, sending_stage
from oncord.db import get_database
from oncord.jobs.enqueue import DISPATCH_JOB
from oncord.models import Appointment, Automation, JourneyEnrolment, JourneyVersion

BENCH_DB = "oncord_bench_journeys"
JOURNEYS = 5
WAIT_MINUTES = 1
# Every journey: a consent check, a wait, "has not booked since entering", stop.
STEPS = [
    Step(kind=StepKind.CONDITION, test=Test.MARKETING_STATUS, channel="email", status="subscribed"),
    Step(kind=StepKind.WAIT, minutes=WAIT_MINUTES),
    Step(kind=StepKind.CONDITION, test=Test.BOOKED_SINCE_ENTERING, negate=True),
    Step(kind=StepKind.STOP),
]
WAIT_INDEX = 1
_STAMP = """
CREATE TABLE bench_step_stamps (step_run_id bigint PRIMARY KEY,
                                written_at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE FUNCTION bench_stamp_step() RETURNS trigger AS $$
BEGIN INSERT INTO bench_step_stamps (step_run_id) VALUES (NEW.id); RETURN NEW; END $$ LANGUAGE plpgsql;
CREATE TRIGGER bench_stamp_step AFTER INSERT ON journey_step_runs
    FOR EACH ROW EXECUTE FUNCTION bench_stamp_step();
"""


def _seed(stage: SendingStage, count: int, start: datetime, spread: float) -> None:
    """Five enabled journeys and `count` enrolments among them, first steps due over `spread` seconds
    from `start`."""
    live = start - timedelta(hours=2)
    database = get_database(stage.app)
    with database.session() as session:
        seed_clinic(session, live)
        versions = []
        for n in range(JOURNEYS):
            automation = Automation(
                name=f"Bench journey {n + 1}", enabled=True, trigger="did_not_arrive", offset_minutes=0,
                is_service=False, send_email=False, email_subject="", email_body="", send_sms=False,
                sms_body="", activated_at=live, planned_through=start + timedelta(days=1), created_at=live,
                updated_at=live)
            session.add(automation)
            session.flush()
            version = JourneyVersion(automation_id=automation.id, number=1, steps=dump_steps(STEPS),
                                     created_at=live)
            session.add(version)
            session.flush()
            versions.append((automation.id, version.id))
        session.commit()
        contact_ids = insert_contacts(session, bench_contacts(count, 0, stage.sink, stage.twilio), start)
        session.commit()
        appointments = [
            {"cliniko_id": f"{800_000_000 + i}", "contact_id": contact_id,
             "starts_at": start - timedelta(hours=1), "ends_at": start - timedelta(minutes=15),
             "did_not_arrive": True, "cliniko_created_at": start - timedelta(days=10),
             "cliniko_updated_at": start - timedelta(days=10)}
            for i, contact_id in enumerate(contact_ids)
        ]
        for chunk in range(0, count, 5000):
            session.execute(insert(Appointment), appointments[chunk:chunk + 5000])
        session.commit()
        appointment_ids = list(session.scalars(select(Appointment.id).order_by(Appointment.id)))
        rows = []
        for i, (contact_id, appointment_id) in enumerate(zip(contact_ids, appointment_ids, strict=True)):
            automation_id, version_id = versions[i % JOURNEYS]
            due = start + timedelta(seconds=spread * i / max(count, 1))
            rows.append({"automation_id": automation_id, "version_id": version_id,
                         "appointment_id": appointment_id, "contact_id": contact_id,
                         "once_key": f"appointment:{appointment_id}", "state": "active",
                         "step_index": 0, "next_run_at": due,
                         "entered_at": start - timedelta(minutes=15), "created_at": live, "updated_at": live})
        for chunk in range(0, count, 5000):
            session.execute(insert(JourneyEnrolment), rows[chunk:chunk + 5000])
        session.commit()
        # A live database has planner statistics (autovacuum gathers them); a bulk load has none
        # until then, and without them the per-batch "booked since" query plans a full scan.
        session.execute(text("ANALYZE"))
        session.commit()


@click.command("journeys")
@click.option("--enrolments", default=50_000, show_default=True,
              help="How many enrolments, across 5 journeys.")
@click.option("--workers", "worker_count", default=2, show_default=True)
@click.option("--spread", default=120.0, show_default=True, help="Seconds over which first steps fall due.")
@click.option("--tick", default=5.0, show_default=True, help="Seconds between dispatcher passes enqueued.")
@click.option("--postgres-url", default="postgresql://root@127.0.0.1:5432/test", show_default=True,
              help="A server where the benchmark may create its scratch database.")
@click.option("--database", "database_name", default=BENCH_DB, show_default=True)
@click.option("--redis-url", default="",
              help="A Redis database the benchmark may flush (default: a private one).")
def bench_journeys_command(enrolments: int, worker_count: int, spread: float, tick: float, postgres_url: str,
                           database_name: str, redis_url: str) -> None:
    """Steps per second and p95 lateness of due journey steps with real workers; none may run twice."""
    click.echo(f"{machine_line()}; database postgresql; {worker_count} workers; {enrolments:,} enrolments "
               f"in {JOURNEYS} journeys of {len(STEPS)} steps; first steps due over {spread:.0f} s; "
               f"a pass every {tick:.0f} s")
    with sending_stage("postgresql", postgres_url, database_name, redis_url) as stage:
        database = get_database(stage.app)
        with database.engine.begin() as conn:
            conn.exec_driver_sql(_STAMP)
        placeholder = datetime.now(UTC)
        _seed(stage, enrolments, placeholder, spread)
        stage.start_workers(worker_count, {})
        # Seeding and starting workers take a while on a loaded machine: only now move the first due
        # times to start just ahead, so no step is late before the workers could run it.
        start = datetime.now(UTC) + timedelta(seconds=2)
        with database.session() as session:
            session.execute(text("UPDATE journey_enrolments SET next_run_at = next_run_at + "
                                 "make_interval(secs => :shift)"),
                            {"shift": (start - placeholder).total_seconds()})
            session.commit()
            first_due = dict(session.execute(select(JourneyEnrolment.id, JourneyEnrolment.next_run_at)).all())
        while datetime.now(UTC) < start:
            time.sleep(0.2)
        started, passes, expected = time.perf_counter(), 0, enrolments * len(STEPS)
        last_tick = 0.0
        while True:
            if time.perf_counter() - last_tick >= tick:
                stage.queue.enqueue(DISPATCH_JOB, "bench", job_id=f"bench-journeys-pass-{passes}",
                                    job_timeout=600, result_ttl=60)
                passes, last_tick = passes + 1, time.perf_counter()
            with database.session() as session:
                open_ = session.scalar(select(func.count()).select_from(JourneyEnrolment)
                                       .where(JourneyEnrolment.state == "active")) or 0
            if not open_:
                break
            if time.perf_counter() - started > 3600:
                raise click.ClickException(f"gave up after an hour with {open_:,} enrolments still running")
            time.sleep(0.5)
        stage.stop_workers()
        with database.session() as session:
            ran = list(session.execute(text(
                "SELECT r.enrolment_id, r.step_index, r.ran_at, s.written_at FROM journey_step_runs r "
                "JOIN bench_step_stamps s ON s.step_run_id = r.id")).all())
            twice = session.scalar(text(
                "SELECT count(*) FROM (SELECT 1 FROM journey_step_runs GROUP BY enrolment_id, step_index "
                "HAVING count(*) > 1) AS repeated")) or 0
            states = dict(session.execute(select(JourneyEnrolment.state, func.count())
                                          .group_by(JourneyEnrolment.state)).all())
    _report(ran, first_due, expected, twice, states, passes)


def _report(ran: list[Any], first_due: dict[int, datetime], expected: int, twice: int, states: dict[str, int],
            passes: int) -> None:
    wait_ran = {r.enrolment_id: r.ran_at for r in ran if r.step_index == WAIT_INDEX}
    lateness = []
    for row in ran:
        due = first_due[row.enrolment_id] if row.step_index <= WAIT_INDEX else (
            wait_ran[row.enrolment_id] + timedelta(minutes=WAIT_MINUTES))
        lateness.append((row.written_at - due).total_seconds())
    written = [row.written_at for row in ran]
    elapsed = (max(written) - min(written)).total_seconds() if written else 0.0
    p95 = statistics.quantiles(lateness, n=20)[-1] if len(lateness) > 1 else 0.0
    click.echo(f"steps run: {len(ran):,} of {expected:,} in {elapsed:.1f} s from first to last "
               f"({len(ran) / max(elapsed, 1e-9):,.0f} steps/s); {passes} passes enqueued")
    click.echo(f"lateness from each step's due time: median {statistics.median(lateness):.1f} s, "
               f"p95 {p95:.1f} s, max {max(lateness):.1f} s (target p95 < 60 s)")
    click.echo(f"steps run twice: {twice}; enrolments: {states}")
    if twice or len(ran) != expected or states.get("active") or p95 >= 60:
        raise SystemExit(1)
