"""RQ entry points for automations: the per-minute dispatcher, the morning evaluation of state
triggers (recall, birthday: one job id per local day, each run scheduling the next) and the send
batches.

Scheduling: each scheduled dispatch first schedules the next minute's, with a deterministic job
id per minute (`enqueue_at` ignores `unique=` in RQ 2.x, but the same id is the same entry in
the scheduled registry, so two workers scheduling it make one job). A worker makes sure the
chain exists when it starts; after an outage RQ's scheduler runs the overdue one at once and
the chain carries on from there. Exactly-once sending does not rely on any of this: it lives
in the database.
"""

from __future__ import annotations

from flask import Flask
from rq import get_current_job

from oncord import context
from oncord.automations.daily import evaluate
from oncord.automations.dispatcher import dispatch as run_dispatch
from oncord.automations.refresh import AppointmentRefresher
from oncord.automations.sender import BatchSender, give_up
from oncord.db import get_database
from oncord.jobs.enqueue import (
    enqueue_next_steps_pass,
    enqueue_send_batch,
    schedule_next_daily,
    schedule_next_dispatch,
)
from oncord.jobs.runtime import job_app, last_attempt
from oncord.messaging.errors import failure_text
from oncord.messaging.pipeline import Transports
from oncord.messaging.profile import load_profile
from oncord.queue import get_queue
from oncord.timezones import clinic_time_zone


def ensure_dispatch_schedule(app: Flask) -> str:
    """Called by worker.py at start: the per-minute dispatch chain exists from now on."""
    return schedule_next_dispatch(get_queue(app), context.clock(app).now())


def dispatch(reason: str = "schedule") -> dict[str, int]:
    """Plan due triggers and queue their sends; first make sure next minute's run is scheduled."""
    app = job_app()
    queue = get_queue(app)
    clock = context.clock(app)
    # Every run (after a sync too) re-creates the chain, so a lost scheduled job heals itself.
    schedule_next_dispatch(queue, clock.now())
    settings = context.settings(app)
    result = run_dispatch(
        get_database(app),
        clock,
        batch_size=settings.automation_batch_size,
        enqueue=lambda send_ids: enqueue_send_batch(queue, clock, send_ids),
        settings=settings,
        default_zone=_default_zone(app),
    )
    if result.more_due:
        enqueue_next_steps_pass(queue, clock.now())
    return result.as_dict()


def ensure_daily_schedule(app: Flask) -> str:
    """Called by worker.py at start: the morning evaluation of recall and birthdays is scheduled."""
    return schedule_next_daily(get_queue(app), context.clock(app), _clinic_zone(app))


def daily_triggers() -> dict[str, int]:
    """Enter the patients recall and birthday journeys match today; schedule tomorrow's run first."""
    app = job_app()
    clock = context.clock(app)
    schedule_next_daily(get_queue(app), clock, _clinic_zone(app))
    result = evaluate(get_database(app), clock.now(), context.settings(app))
    return {"enrolled": result.enrolled, "planned": result.pending, "skipped": result.skipped}


def _clinic_zone(app: Flask) -> str:
    with get_database(app).session() as session:
        return clinic_time_zone(session, context.settings(app))


def _default_zone(app: Flask) -> str:
    database = get_database(app)
    with database.session() as session:
        return load_profile(session, context.settings(app)).default_time_zone


def send_batch(send_ids: list[int]) -> dict[str, int]:
    """Send (or skip) these sends; ones another worker already took are left alone."""
    app = job_app()
    try:
        return batch_sender(app, worker_id=_worker_id()).run(send_ids).as_dict()
    except Exception as exc:
        # One message's problem never gets here (it fails that message); this is the whole job
        # failing. RQ retries it (JOB_RETRY); after the last try its sends show as failed.
        if last_attempt():
            give_up(get_database(app), context.clock(app), send_ids, failure_text(exc))
        raise


def batch_sender(app: Flask, *, worker_id: str) -> BatchSender:
    """A BatchSender wired to the app's database, clock, settings and transports."""
    settings = context.settings(app)
    database = get_database(app)
    clock = context.clock(app)
    transports = Transports.configured(settings, database, clock)
    refresher = AppointmentRefresher(settings, context.secret_box(app), context.cliniko_client_options(app))
    return BatchSender(database, clock, settings, transports, worker_id=worker_id, refresher=refresher)


def _worker_id() -> str:
    job = get_current_job()
    return job.id if job is not None else "direct"
