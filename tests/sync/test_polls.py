"""Auto-sync polls: a change in Cliniko is stored by the next poll, an idle poll costs one request
per polled resource, and polls go on while the daily full reconcile runs."""

from __future__ import annotations

import threading

from rq import Queue
from rq.job import Job
from sqlalchemy import select

from oncord import context
from oncord.db import get_database
from oncord.integration import set_auto_sync
from oncord.jobs.enqueue import DISPATCH_PREFIX
from oncord.jobs.sync_jobs import ensure_schedules, run_pull, run_scheduled_pull
from oncord.models import ActivityEvent, Appointment, Contact, SyncRun, SyncRunStatus
from oncord.queue import get_queue
from oncord.sync.launcher import create_run, run_changed_anything
from oncord.sync.pull import RESOURCES
from oncord.web.presenters import run_lines
from tests.sync.helpers import all_appointments, all_patients

POLLED = [r.name for r in RESOURCES if not r.slow]


def release_polls(queue: Queue) -> list[str]:
    """Move the scheduled polls (only) onto the queue, as RQ's scheduler does when their slot comes."""
    released = []
    for job_id in queue.scheduled_job_registry.get_job_ids():
        if job_id.startswith("oncord-poll-"):
            job = Job.fetch(job_id, connection=queue.connection)
            queue.scheduled_job_registry.remove(job)
            queue.enqueue_job(job)
            released.append(job_id)
    return released


def _auto_sync_on(app, session, clock) -> None:
    set_auto_sync(session, True, clock)
    session.commit()
    ensure_schedules(app)


def _poll(app, clock, work_queue) -> SyncRun:
    """Let one poll interval pass and run the poll RQ's scheduler would start."""
    clock.advance(seconds=context.settings(app).sync_poll_seconds)
    assert release_polls(get_queue(app)), "no poll was scheduled"
    work_queue(release=False)
    with get_database(app).session() as session:
        return session.scalars(
            select(SyncRun).where(SyncRun.trigger == "schedule").order_by(SyncRun.id.desc())
        ).first()


def test_a_patient_edit_reaches_the_database_within_one_poll(
    connected_app, pull, sandbox, db_session, clock, work_queue
) -> None:
    """Edited in Cliniko, stored by the very next poll (SYNC_POLL_SECONDS later)."""
    pull()
    _auto_sync_on(connected_app, db_session, clock)
    patient = next(p for p in all_patients(sandbox) if p["archived_at"] is None)
    clock.advance(seconds=5)
    sandbox.store.edit_patient(patient["id"], first_name="Renamed-In-Cliniko")
    run = _poll(connected_app, clock, work_queue)
    assert run.status == SyncRunStatus.SUCCEEDED
    assert run.counts["patients"]["updated"] == 1
    db_session.expire_all()
    contact = db_session.scalars(select(Contact).where(Contact.cliniko_patient_id == patient["id"])).one()
    assert contact.first_name == "Renamed-In-Cliniko"
    # The poll booked the next slot, so the chain goes on.
    scheduled = get_queue(connected_app).scheduled_job_registry.get_job_ids()
    assert any(j.startswith("oncord-poll-") for j in scheduled)


def test_a_cancellation_reaches_the_feed_within_one_poll_and_wakes_the_automations(
    connected_app, pull, sandbox, db_session, clock, work_queue
) -> None:
    """Cancelled in Cliniko: the next poll stores it, adds the feed entry and runs a dispatch at once."""
    pull()
    _auto_sync_on(connected_app, db_session, clock)
    booked = next(
        a for a in all_appointments(sandbox)
        if a["cancelled_at"] is None and a["archived_at"] is None and a["patient"]
    )
    clock.advance(seconds=5)
    sandbox.store.cancel_appointment(booked["id"], 40, None)
    dispatches_before = set(get_queue(connected_app).finished_job_registry.get_job_ids())
    run = _poll(connected_app, clock, work_queue)
    assert run.counts["appointments"]["updated"] == 1
    db_session.expire_all()
    stored = db_session.scalars(select(Appointment).where(Appointment.cliniko_id == booked["id"])).one()
    assert stored.cancelled_at is not None
    feed = db_session.scalars(
        select(ActivityEvent.kind).where(ActivityEvent.appointment_id == stored.id)
    ).all()
    assert "appointment_cancelled" in feed
    ran = set(get_queue(connected_app).finished_job_registry.get_job_ids()) - dispatches_before
    assert any(job_id.startswith(f"{DISPATCH_PREFIX}sync-") for job_id in ran)


def test_an_idle_poll_makes_one_request_per_polled_resource(
    connected_app, pull, sandbox, db_session, clock, work_queue
) -> None:
    """Nothing changed: one request for each polled resource, none for the slow lists, and it says so."""
    pull()
    _auto_sync_on(connected_app, db_session, clock)
    clock.advance(minutes=5)  # past the overlap, so the first pull's records are not re-read
    sandbox.store.reset_requests()
    finished_before = set(get_queue(connected_app).finished_job_registry.get_job_ids())
    run = _poll(connected_app, clock, work_queue)
    log = sandbox.store.request_log()
    assert len(log) == len(POLLED), [r["path"] for r in log]
    assert len({r["path"] for r in log}) == len(POLLED)
    assert not {"/v1/businesses", "/v1/practitioners", "/v1/appointment_types"} & {r["path"] for r in log}
    assert run.status == SyncRunStatus.SUCCEEDED and not run_changed_anything(run)
    # Nothing to react to: no dispatch was queued for it.
    ran = set(get_queue(connected_app).finished_job_registry.get_job_ids()) - finished_before
    assert not any(job_id.startswith(f"{DISPATCH_PREFIX}sync-") for job_id in ran)


def test_the_slow_lists_are_polled_every_sync_lists_minutes(
    connected_app, pull, sandbox, db_session, clock, work_queue
) -> None:
    """Businesses, practitioners and appointment types are read again once their interval has passed."""
    pull()
    _auto_sync_on(connected_app, db_session, clock)
    clock.advance(minutes=context.settings(connected_app).sync_lists_minutes)
    sandbox.store.reset_requests()
    _poll(connected_app, clock, work_queue)
    paths = {r["path"] for r in sandbox.store.request_log()}
    assert {"/v1/businesses", "/v1/practitioners", "/v1/appointment_types"} <= paths


def test_polls_go_on_while_the_daily_reconcile_runs(
    connected_app, pull, sandbox, db_session, clock
) -> None:
    """A poll during a long full reconcile still runs and stores a fresh edit; the reconcile then ends."""
    pull()
    _auto_sync_on(connected_app, db_session, clock)
    # The reconcile is held on its first patients page, as a 28-minute reconcile would be busy.
    hold = sandbox.store.hold("/v1/patients", count=1, timeout=60)
    with get_database(connected_app).session() as session:
        full_run = create_run(session, full=True, trigger="test", clock=clock)
        session.commit()
        full_id = full_run.id
    reconcile = threading.Thread(target=run_pull, args=(connected_app, full_id), kwargs={"full": True})
    reconcile.start()
    try:
        assert sandbox.store.holds.wait_until_waiting(hold.id, timeout=60), "the reconcile never asked"
        patient = next(p for p in all_patients(sandbox) if p["archived_at"] is None)
        clock.advance(seconds=30)
        sandbox.store.edit_patient(patient["id"], last_name="Polled-During-Reconcile")
        poll = run_scheduled_pull(connected_app, full=False)
        assert isinstance(poll, SyncRun) and poll.status == SyncRunStatus.SUCCEEDED
        db_session.expire_all()
        contact = db_session.scalars(select(Contact).where(Contact.cliniko_patient_id == patient["id"])).one()
        assert contact.last_name == "Polled-During-Reconcile"
    finally:
        sandbox.store.holds.release(hold.id)
        reconcile.join(timeout=60)
    db_session.expire_all()
    assert db_session.get(SyncRun, full_id).status == SyncRunStatus.SUCCEEDED


def test_idle_polls_one_after_another_are_kept_as_one_row(
    connected_app, pull, sandbox, db_session, clock, work_queue
) -> None:
    """Three polls that found nothing leave one history row that says so, not three."""
    pull()
    _auto_sync_on(connected_app, db_session, clock)
    clock.advance(minutes=5)
    for _ in range(3):
        _poll(connected_app, clock, work_queue)
    db_session.expire_all()
    polls = db_session.scalars(select(SyncRun).where(SyncRun.trigger == "schedule")).all()
    assert [(p.checks, p.status) for p in polls] == [(3, SyncRunStatus.SUCCEEDED)]
    assert "checked 3 times in a row" in " ".join(run_lines(polls[0]))
    # A poll that brings a change gets its own row.
    patient = next(p for p in all_patients(sandbox) if p["archived_at"] is None)
    sandbox.store.edit_patient(patient["id"], first_name="Changed")
    _poll(connected_app, clock, work_queue)
    db_session.expire_all()
    checks = select(SyncRun.checks).where(SyncRun.trigger == "schedule").order_by(SyncRun.id)
    assert db_session.scalars(checks).all() == [3, 1]
