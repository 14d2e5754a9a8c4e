"""Real worker processes against real Redis: killed mid-sync, and two at once.

The moment each test acts in is made certain, not likely: the sandbox holds a chosen request
until the test has killed the worker (or started a rival) and released it.
"""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from oncord import context
from oncord.jobs.enqueue import PULL_JOB
from oncord.jobs.sync_jobs import ensure_push_scheduled
from oncord.models import (
    ActivityEvent,
    Appointment,
    ChangeStatus,
    Contact,
    PatientChange,
    SyncRun,
    SyncRunStatus,
)
from oncord.queue import get_queue
from oncord.sync.launcher import create_run, launch_pull
from oncord.sync.locks import pull_running, push_running
from oncord.sync.outbox import record_changes
from tests.fixtures.rq_inprocess import release_scheduled_jobs
from tests.fixtures.waiting import wait_until
from tests.fixtures.worker import kill_group
from tests.sync.helpers import all_appointments, all_patients, appointment_rows
from tests.sync.test_push import _patient

pytestmark = pytest.mark.slow
LOCK_SECONDS = "2"
# Long enough for a worker process to start on a loaded machine; the sandbox releases at teardown anyway.
HOLD_SECONDS = 120


def _duplicate_feed_entries(session) -> int:
    grouped = select(ActivityEvent.dedupe_key).group_by(ActivityEvent.dedupe_key).having(func.count() > 1)
    return session.scalar(select(func.count()).select_from(grouped.subquery()))


def test_worker_killed_mid_pull_then_the_next_pull_completes(
    connected_app, sandbox, db_session, redis_conn, start_worker, run_worker
) -> None:
    """SIGKILL during a pull leaves consistent data; after the lock expires a new pull finishes it."""
    # Page 1 of the appointments is stored and committed by the time page 2 is asked for (and held).
    hold = sandbox.store.hold("/v1/individual_appointments", skip=1, timeout=HOLD_SECONDS)
    queue = get_queue(connected_app)
    clock = context.clock(connected_app)
    run = launch_pull(db_session, queue, full=False, trigger="test", clock=clock)
    worker = start_worker(SYNC_LOCK_SECONDS=LOCK_SECONDS)

    assert sandbox.store.holds.wait_until_waiting(hold.id, timeout=HOLD_SECONDS), "page 2 never asked for"
    kill_group(worker)
    sandbox.store.holds.release(hold.id)
    db_session.expire_all()
    assert db_session.get(SyncRun, run.id).current_resource == "appointments"
    stored = db_session.scalar(select(func.count()).select_from(Appointment))
    assert 0 < stored < len(all_appointments(sandbox))

    wait_until(lambda: not pull_running(redis_conn), "the dead worker's pull lock to expire")
    second = launch_pull(db_session, queue, full=False, trigger="test", clock=clock)
    assert second.id != run.id
    finished = run_worker(SYNC_LOCK_SECONDS=LOCK_SECONDS)
    assert finished.returncode == 0, finished.stderr[-2000:]
    db_session.expire_all()
    # RQ may hand the dead worker's job to the new worker; either way both runs have ended.
    assert db_session.get(SyncRun, run.id).is_finished
    assert db_session.get(SyncRun, second.id).status == SyncRunStatus.SUCCEEDED
    assert db_session.scalar(select(func.count()).select_from(Appointment)) == appointment_rows(sandbox)
    assert db_session.scalar(select(func.count()).select_from(Contact)) == len(all_patients(sandbox))
    assert _duplicate_feed_entries(db_session) == 0


def test_worker_killed_mid_push_then_every_edit_reaches_cliniko(
    connected_app, pull, sandbox, db_session, clock, redis_conn, start_worker, run_worker
) -> None:
    """SIGKILL while pushing: on restart the rest go out; every contact ends with its final values."""
    pull()
    contacts = list(
        db_session.scalars(
            select(Contact)
            .where(Contact.cliniko_patient_id.is_not(None), Contact.archived_at.is_(None))
            .limit(6)
        )
    )
    for n, contact in enumerate(contacts):
        contact.city = f"Suburb {n}"
        record_changes(db_session, contact, ["city"], clock.now())
    db_session.commit()
    clock.advance(minutes=3)
    with connected_app.app_context():
        ensure_push_scheduled(connected_app)
    sandbox.store.reset_requests()
    # Two PATCHes go through; the third is held while the worker dies.
    hold = sandbox.store.hold(method="PATCH", skip=2, timeout=HOLD_SECONDS)
    worker = start_worker(SYNC_LOCK_SECONDS=LOCK_SECONDS)

    assert sandbox.store.holds.wait_until_waiting(hold.id, timeout=HOLD_SECONDS), "no third PATCH"
    kill_group(worker)
    sandbox.store.holds.release(hold.id)
    db_session.expire_all()
    assert ChangeStatus.PENDING in set(db_session.scalars(select(PatientChange.status)))

    wait_until(lambda: not push_running(redis_conn), "the dead worker's push lock to expire")
    with connected_app.app_context():
        ensure_push_scheduled(connected_app)
    release_scheduled_jobs(get_queue(connected_app))
    finished = run_worker(SYNC_LOCK_SECONDS=LOCK_SECONDS)
    assert finished.returncode == 0, finished.stderr[-2000:]
    db_session.expire_all()
    assert set(db_session.scalars(select(PatientChange.status))) == {ChangeStatus.PUSHED}
    for n, contact in enumerate(contacts):
        assert _patient(sandbox, contact.cliniko_patient_id)["city"] == f"Suburb {n}"
    patched = Counter(
        r["path"] for r in sandbox.store.request_log() if r["method"] == "PATCH" and r["status"] == 200
    )
    assert len(patched) == len(contacts)
    # Only a PATCH Cliniko took just as the worker died can go twice, and it carries the same value.
    assert sum(count - 1 for count in patched.values()) <= 1


def test_two_workers_never_run_the_same_pull_twice(
    connected_app, sandbox, db_session, start_worker, run_worker
) -> None:
    """A pull queued while another is mid-request on a second worker stands aside and says so."""
    hold = sandbox.store.hold("/v1/patients", timeout=HOLD_SECONDS)
    queue = get_queue(connected_app)
    clock = context.clock(connected_app)
    sandbox.store.reset_requests()

    def queue_pull() -> int:
        run = create_run(db_session, full=True, trigger="test", clock=clock)
        db_session.commit()
        queue.enqueue(PULL_JOB, run.id, True, job_id=f"pull-{run.id}")
        return run.id

    first = queue_pull()
    start_worker()
    assert sandbox.store.holds.wait_until_waiting(hold.id, timeout=HOLD_SECONDS), "the first pull never began"
    second = queue_pull()
    # The first worker is busy with the held pull, so this second worker is the one that takes it.
    rival = run_worker()
    assert rival.returncode == 0, rival.stderr[-2000:]
    db_session.expire_all()
    skipped = db_session.get(SyncRun, second)
    assert skipped.status == SyncRunStatus.FAILED and "already running" in skipped.error

    sandbox.store.holds.release(hold.id)

    def first_finished() -> bool:
        db_session.expire_all()
        return db_session.get(SyncRun, first).is_finished

    wait_until(first_finished, "the first pull to finish")
    assert db_session.get(SyncRun, first).status == SyncRunStatus.SUCCEEDED
    patient_pages = [r for r in sandbox.store.request_log() if r["path"] == "/v1/patients"]
    assert len(patient_pages) == 1  # 30 patients: one page, fetched by one pull only
