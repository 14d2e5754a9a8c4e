"""One request budget for every process: workers pulling and pushing while another process refreshes
appointments, against a sandbox that enforces its limit, never meet a 429 (three worker processes)."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from rq import Queue
from rq.job import Job, JobStatus
from sqlalchemy import select

from oncord import context
from oncord.jobs.enqueue import PUSH_JOB, enqueue_pull, run_job_id
from oncord.models import Appointment, ChangeStatus, PatientChange, SyncRun, SyncRunStatus
from oncord.queue import get_queue
from oncord.sync.launcher import create_run
from oncord.sync.outbox import record_changes
from tests.fixtures.cliniko import connect_to_sandbox, pull_in_process
from tests.fixtures.waiting import wait_until
from tests.sync.refresh_job import REFRESH_JOB
from tests.sync.test_push import _linked

pytestmark = pytest.mark.slow

# The sandbox allows 20 requests per 3 s window; every Oncord process together keeps to 18.
SANDBOX_LIMIT, WINDOW = 20, 3
BUDGET = {"CLINIKO_REQUESTS_PER_MINUTE": "18", "CLINIKO_BULK_REQUESTS_PER_MINUTE": "12",
          "CLINIKO_RATE_WINDOW_SECONDS": str(WINDOW)}


def test_pull_push_and_refresh_at_once_share_the_budget_and_get_no_429(
    app, sandbox_factory, db_session, start_worker
) -> None:
    """Three worker processes at once (a full pull, a push of 12 edits, a pre-send refresh of 20
    appointments), each on its own queue: together they stay under the sandbox's limit, and all
    finish. Asserted on counts only, so a slow machine makes it slower, never red."""
    sandbox = sandbox_factory(patients=60, rate_limit=SANDBOX_LIMIT, rate_window_seconds=WINDOW)
    app.extensions["oncord.settings"] = replace(
        context.settings(app), cliniko_requests_per_minute=18, cliniko_bulk_requests_per_minute=12,
        cliniko_rate_window_seconds=WINDOW,
    )
    connect_to_sandbox(app, sandbox)
    assert pull_in_process(app).status == SyncRunStatus.SUCCEEDED
    clock = context.clock(app)
    contacts = _linked(db_session, 12)
    for n, contact in enumerate(contacts):
        contact.city = f"Suburb {n}"
        record_changes(db_session, contact, ["city"], clock.now())
    appointment_ids = list(db_session.scalars(select(Appointment.id).order_by(Appointment.id).limit(20)))
    run = create_run(db_session, full=True, trigger="test", clock=clock)
    run.job_id = run_job_id(run.id)
    db_session.commit()
    sandbox.store.reset_requests()

    # One queue per worker, so each job runs in its own process, all at the same time.
    base = get_queue(app)
    queues = {name: Queue(f"{base.name}-{name}", connection=base.connection)
              for name in ("pull", "push", "refresh")}
    for queue in queues.values():
        start_worker(**BUDGET, ONCORD_QUEUE=queue.name)
    enqueue_pull(queues["pull"], run.id, True, run.job_id)
    push = queues["push"].enqueue(PUSH_JOB, job_id="push-now")
    refresh = queues["refresh"].enqueue(REFRESH_JOB, appointment_ids, job_id="refresh-now")

    ended = (JobStatus.FINISHED, JobStatus.FAILED)

    def all_done() -> bool:
        # The jobs' own statuses too: a worker marks its job finished a moment after the job's
        # last commit, so the rows alone can be done while a job still says "started".
        db_session.expire_all()
        pushed = set(db_session.scalars(select(PatientChange.status))) == {ChangeStatus.PUSHED}
        pull_job = Job.fetch(run.job_id, connection=base.connection)
        jobs_ended = all(j.get_status(refresh=True) in ended for j in (pull_job, push, refresh))
        return pushed and jobs_ended and db_session.get(SyncRun, run.id).is_finished

    wait_until(all_done, "the pull, the push and the refresh to finish", timeout=600)
    log = sandbox.store.request_log()
    assert [r["path"] for r in log if r["status"] == 429] == []
    assert db_session.get(SyncRun, run.id).status == SyncRunStatus.SUCCEEDED
    assert refresh.get_status() == JobStatus.FINISHED and refresh.return_value() == len(appointment_ids)
    assert sum(1 for r in log if r["method"] == "PATCH") == len(contacts)
    # The refresh really asked Cliniko (it falls back to the stored copy when it cannot).
    assert sum(1 for r in log if re.fullmatch(r"/v1/individual_appointments/\d+", r["path"])) == len(
        appointment_ids
    )
    # Each job was taken by the one worker listening on its queue: three processes.
    pull_job = Job.fetch(run.job_id, connection=base.connection)
    assert [j.get_status(refresh=True) for j in (pull_job, push, refresh)] == [JobStatus.FINISHED] * 3
    # Enough requests that three processes each pacing alone would have passed the limit.
    assert len(log) > 2 * SANDBOX_LIMIT
