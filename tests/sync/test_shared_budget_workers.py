"""One request budget for every process: workers pulling and pushing while another process refreshes
appointments, against a sandbox that enforces its limit, never meet a 429."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from sqlalchemy import select

from oncord import context
from oncord.automations.refresh import AppointmentRefresher
from oncord.db import get_database
from oncord.jobs.enqueue import PUSH_JOB, enqueue_pull, run_job_id
from oncord.models import Appointment, ChangeStatus, PatientChange, SyncRun, SyncRunStatus
from oncord.queue import get_queue
from oncord.sync.launcher import create_run
from oncord.sync.outbox import record_changes
from tests.fixtures.cliniko import connect_to_sandbox, pull_in_process
from tests.fixtures.waiting import wait_until
from tests.sync.test_push import _linked

pytestmark = pytest.mark.slow

# The sandbox allows 20 requests per 3 s window; every Oncord process together keeps to 18.
SANDBOX_LIMIT, WINDOW = 20, 3
BUDGET = {"CLINIKO_REQUESTS_PER_MINUTE": "18", "CLINIKO_BULK_REQUESTS_PER_MINUTE": "12",
          "CLINIKO_RATE_WINDOW_SECONDS": str(WINDOW)}


def test_pull_push_and_refresh_at_once_share_the_budget_and_get_no_429(
    app, sandbox_factory, db_session, start_worker
) -> None:
    """Two worker processes (a full pull, a push of 12 edits) and a third process re-reading 20
    appointments at the same time: together they stay under the sandbox's limit, and all finish."""
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

    queue = get_queue(app)
    enqueue_pull(queue, run.id, True, run.job_id)
    queue.enqueue(PUSH_JOB, job_id="push-now")
    start_worker(**BUDGET)
    start_worker(**BUDGET)
    refreshed: list[object] = []

    def refresh_all() -> None:
        refresher = AppointmentRefresher(context.settings(app), context.secret_box(app), {})
        try:
            with get_database(app).session() as session:
                for appointment_id in appointment_ids:
                    appointment = session.get(Appointment, appointment_id)
                    assert appointment is not None
                    refreshed.append(refresher.refresh(session, appointment, clock.now()))
        finally:
            refresher.close()

    refresher = threading.Thread(target=refresh_all)
    refresher.start()
    refresher.join(timeout=300)

    def all_done() -> bool:
        db_session.expire_all()
        pushed = set(db_session.scalars(select(PatientChange.status))) == {ChangeStatus.PUSHED}
        return pushed and db_session.get(SyncRun, run.id).is_finished

    wait_until(all_done, "the pull and the push to finish", timeout=300)
    log = sandbox.store.request_log()
    assert [r["path"] for r in log if r["status"] == 429] == []
    assert db_session.get(SyncRun, run.id).status == SyncRunStatus.SUCCEEDED
    assert len(refreshed) == len(appointment_ids) and all(r is not None for r in refreshed)
    assert sum(1 for r in log if r["method"] == "PATCH") == len(contacts)
    # Enough requests that three processes each pacing alone would have passed the limit.
    assert len(log) > 2 * SANDBOX_LIMIT
