"""Real worker processes against real Redis: killed mid-sync, and two at once."""

from __future__ import annotations

import time
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
from oncord.sync.outbox import record_changes
from tests.fixtures.rq_inprocess import release_scheduled_jobs
from tests.fixtures.worker import kill_group
from tests.sync.helpers import all_appointments, all_patients
from tests.sync.test_push import _patient

pytestmark = pytest.mark.slow
LOCK_SECONDS = "2"


def _wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def _duplicate_feed_entries(session) -> int:
    grouped = select(ActivityEvent.dedupe_key).group_by(ActivityEvent.dedupe_key).having(func.count() > 1)
    return session.scalar(select(func.count()).select_from(grouped.subquery()))


def test_worker_killed_mid_pull_then_the_next_pull_completes(
    connected_app, sandbox, db_session, start_worker, run_worker
) -> None:
    """SIGKILL during a pull leaves consistent data; after the lock expires a new pull finishes it."""
    sandbox.store.inject_fault("slow", times=1000, delay=0.25, path="/v1/individual_appointments")
    queue = get_queue(connected_app)
    clock = context.clock(connected_app)
    run = launch_pull(db_session, queue, full=False, trigger="test", clock=clock)
    worker = start_worker(SYNC_LOCK_SECONDS=LOCK_SECONDS)

    def mid_appointments() -> bool:
        db_session.expire_all()
        current = db_session.get(SyncRun, run.id)
        return (
            current.current_resource == "appointments"
            and current.counts.get("appointments", {}).get("fetched", 0) >= 100
        )

    _wait_for(mid_appointments)
    kill_group(worker)
    stored = db_session.scalar(select(func.count()).select_from(Appointment))
    assert 0 < stored < len(all_appointments(sandbox))
    sandbox.store.clear_faults()

    time.sleep(float(LOCK_SECONDS) + 0.5)  # the dead worker's lock expires
    second = launch_pull(db_session, queue, full=False, trigger="test", clock=clock)
    assert second.id != run.id
    finished = run_worker(SYNC_LOCK_SECONDS=LOCK_SECONDS)
    assert finished.returncode == 0, finished.stderr[-2000:]
    db_session.expire_all()
    # RQ may hand the dead worker's job to the new worker; either way both runs have ended.
    assert db_session.get(SyncRun, run.id).is_finished
    assert db_session.get(SyncRun, second.id).status == SyncRunStatus.SUCCEEDED
    assert db_session.scalar(select(func.count()).select_from(Appointment)) == len(all_appointments(sandbox))
    assert db_session.scalar(select(func.count()).select_from(Contact)) == len(all_patients(sandbox))
    assert _duplicate_feed_entries(db_session) == 0


def test_worker_killed_mid_push_then_every_edit_reaches_cliniko(
    connected_app, pull, sandbox, db_session, clock, start_worker, run_worker
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
    sandbox.store.inject_fault("slow", times=1000, delay=0.4, method="PATCH")
    worker = start_worker(SYNC_LOCK_SECONDS=LOCK_SECONDS)

    def some_patched() -> bool:
        return (
            sum(1 for r in sandbox.store.request_log() if r["method"] == "PATCH" and r["status"] == 200) >= 2
        )

    _wait_for(some_patched)
    kill_group(worker)
    db_session.expire_all()
    assert ChangeStatus.PENDING in set(db_session.scalars(select(PatientChange.status)))
    sandbox.store.clear_faults()

    time.sleep(float(LOCK_SECONDS) + 0.5)
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


def test_two_workers_never_run_the_same_pull_twice(connected_app, sandbox, db_session, start_worker) -> None:
    """Two pulls queued at once on two workers: one runs, the other stands aside and says so."""
    sandbox.store.inject_fault("slow", times=1000, delay=0.1, path="/v1/patients")
    queue = get_queue(connected_app)
    clock = context.clock(connected_app)
    runs = []
    for _ in range(2):
        run = create_run(db_session, full=True, trigger="test", clock=clock)
        db_session.commit()
        queue.enqueue(PULL_JOB, run.id, True, job_id=f"pull-{run.id}")
        runs.append(run.id)
    sandbox.store.reset_requests()
    start_worker()
    start_worker()

    def both_finished() -> bool:
        db_session.expire_all()
        return all(db_session.get(SyncRun, r).is_finished for r in runs)

    _wait_for(both_finished, timeout=120)
    statuses = sorted(db_session.get(SyncRun, r).status for r in runs)
    assert statuses == ["failed", "succeeded"]
    skipped = next(db_session.get(SyncRun, r) for r in runs if db_session.get(SyncRun, r).status == "failed")
    assert "already running" in skipped.error
    patient_pages = [r for r in sandbox.store.request_log() if r["path"] == "/v1/patients"]
    assert len(patient_pages) == 1  # 30 patients: one page, fetched by one pull only
