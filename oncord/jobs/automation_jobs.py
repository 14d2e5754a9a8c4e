"""RQ entry points for automations: the per-minute dispatcher and the send batches.

Scheduling: each scheduled dispatch first schedules the next minute's, with a deterministic job
id per minute (`enqueue_at` ignores `unique=` in RQ 2.x, but the same id is the same entry in
the scheduled registry, so two workers scheduling it make one job). A worker makes sure the
chain exists when it starts; after an outage RQ's scheduler runs the overdue one at once and
the chain carries on from there. Exactly-once sending does not rely on any of this: it lives
in the database.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask
from rq import Queue, get_current_job
from rq.job import Job

from oncord import context
from oncord.automations.dispatcher import dispatch as run_dispatch
from oncord.automations.refresh import AppointmentRefresher
from oncord.automations.sender import BatchSender, give_up
from oncord.db import get_database
from oncord.jobs.runtime import job_app, last_attempt
from oncord.messaging.errors import failure_text
from oncord.messaging.pipeline import JOB_RETRY, Transports
from oncord.queue import get_queue

DISPATCH_JOB = "oncord.jobs.automation_jobs.dispatch"
SEND_JOB = "oncord.jobs.automation_jobs.send_batch"
SCHEDULE_PREFIX = "automations-dispatch-"


def dispatch_job_id(minute: datetime) -> str:
    """The job id of the scheduled dispatch for one minute, e.g. automations-dispatch-202611201001."""
    return f"{SCHEDULE_PREFIX}{minute:%Y%m%d%H%M}"


def schedule_next_dispatch(queue: Queue, now: datetime) -> str:
    """Make sure next minute's dispatch is scheduled; return its job id."""
    minute = (now + timedelta(minutes=1)).replace(second=0, microsecond=0)
    job_id = dispatch_job_id(minute)
    if not Job.exists(job_id, connection=queue.connection):
        queue.enqueue_at(
            minute, DISPATCH_JOB, "schedule", job_id=job_id, job_timeout=600, result_ttl=3600,
            description=f"Automations dispatch {minute:%H:%M} UTC",
        )
    return job_id


def ensure_dispatch_schedule(app: Flask) -> str:
    """Called by worker.py at start: the per-minute dispatch chain exists from now on."""
    return schedule_next_dispatch(get_queue(app), context.clock(app).now())


def enqueue_dispatch(queue: Queue, reason: str) -> None:
    """Run a dispatch soon (e.g. right after a sync pulled changes)."""
    queue.enqueue(DISPATCH_JOB, reason, job_id=f"automations-dispatch-{reason}", job_timeout=600,
                  result_ttl=600, description=f"Automations dispatch after {reason}")


def dispatch(reason: str = "schedule") -> dict[str, int]:
    """Plan due triggers and queue their sends; first make sure next minute's run is scheduled."""
    app = job_app()
    queue = get_queue(app)
    clock = context.clock(app)
    # Every run (after a sync too) re-creates the chain, so a lost scheduled job heals itself.
    schedule_next_dispatch(queue, clock.now())
    settings = context.settings(app)

    def enqueue(send_ids: list[int]) -> None:
        queue.enqueue(
            SEND_JOB, send_ids,
            job_id=f"automation-sends-{send_ids[0]}-{send_ids[-1]}-{clock.now():%Y%m%d%H%M%S}",
            job_timeout=1800, result_ttl=600, retry=JOB_RETRY.rq_retry(),
            description=f"Automation sends {send_ids[0]}..{send_ids[-1]} ({len(send_ids)})",
        )

    result = run_dispatch(
        get_database(app), clock, batch_size=settings.automation_batch_size, enqueue=enqueue
    )
    return result.as_dict()


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
