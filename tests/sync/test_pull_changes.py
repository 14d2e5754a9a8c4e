"""Incremental pulls, Cliniko-side changes, faults and interruptions."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from oncord import context
from oncord.cliniko.errors import AuthenticationFailed, ClinikoUnavailable
from oncord.db import get_database
from oncord.integration import active_connection, connect_cliniko
from oncord.models import ActivityEvent, Appointment, ConsentChange, Contact, SyncRun, SyncRunStatus
from oncord.sync.launcher import create_run
from oncord.sync.pull import PullSync
from tests.sync.helpers import all_appointments, all_patients, appointment_rows


def _contact(session, patient_id: str) -> Contact:
    return session.scalars(select(Contact).where(Contact.cliniko_patient_id == patient_id)).one()


def test_incremental_pull_fetches_only_what_changed(pull, sandbox, db_session, clock) -> None:
    """After an edit in Cliniko, the next pull updates that patient and asks for little else."""
    pull()
    patient = next(p for p in all_patients(sandbox) if p["archived_at"] is None)
    clock.advance(minutes=30)
    sandbox.store.edit_patient(patient["id"], first_name="Zoë-Renamed", accepted_email_marketing=True)
    run = pull()
    assert run.counts["patients"]["updated"] == 1
    assert run.counts["patients"]["fetched"] == 1
    db_session.expire_all()
    contact = _contact(db_session, patient["id"])
    assert contact.first_name == "Zoë-Renamed"
    assert contact.email_marketing_status == "subscribed"


def test_consent_changes_are_recorded_with_their_source(pull, sandbox, db_session, clock) -> None:
    """A consent change from Cliniko lands in the consent history as a Cliniko sync."""
    pull()
    patient = next(
        p for p in all_patients(sandbox) if p["archived_at"] is None and not p["accepted_sms_marketing"]
    )
    clock.advance(minutes=5)
    sandbox.store.edit_patient(patient["id"], accepted_sms_marketing=True)
    pull()
    contact = _contact(db_session, patient["id"])
    history = db_session.scalars(
        select(ConsentChange)
        .where(ConsentChange.contact_id == contact.id, ConsentChange.channel == "sms")
        .order_by(ConsentChange.id)
    ).all()
    assert [(h.old_status, h.new_status, h.source) for h in history][-1] == (
        "pending",
        "subscribed",
        "cliniko_sync",
    )


def test_cancelled_and_did_not_arrive_reach_the_feed(pull, sandbox, db_session, clock) -> None:
    """Cancelling and marking DNA in Cliniko add one feed entry each, once."""
    pull()
    future = [
        a
        for a in all_appointments(sandbox)
        if a["cancelled_at"] is None and not a["did_not_arrive"] and not a["patient_arrived"]
    ]
    to_cancel, to_dna = future[0]["id"], future[1]["id"]
    clock.advance(minutes=10)
    sandbox.store.cancel_appointment(to_cancel, reason=40, note="Away")
    sandbox.store.mark_did_not_arrive(to_dna)
    pull()
    pull()

    def kinds(cliniko_id: str) -> list[str]:
        appointment = db_session.scalars(
            select(Appointment).where(Appointment.cliniko_id == cliniko_id)
        ).one()
        return list(
            db_session.scalars(
                select(ActivityEvent.kind).where(ActivityEvent.appointment_id == appointment.id)
            )
        )

    assert kinds(to_cancel).count("appointment_cancelled") == 1
    assert kinds(to_dna).count("appointment_did_not_arrive") == 1


def test_archived_patient_is_flagged_not_deleted(pull, sandbox, db_session, clock) -> None:
    """Archiving in Cliniko keeps the contact, marked archived."""
    pull()
    patient = next(p for p in all_patients(sandbox) if p["archived_at"] is None)
    clock.advance(minutes=1)
    sandbox.store.archive_patient(patient["id"])
    pull()
    assert _contact(db_session, patient["id"]).archived_at is not None


def test_rate_limit_and_server_errors_are_waited_out(pull, sandbox, client_sleep, db_session) -> None:
    """429 bursts and a 500 are retried; the sync completes and counts the waits."""
    sandbox.store.inject_fault("rate_limit", times=3, reset_in=2)
    sandbox.store.inject_fault("server_error", times=1, status=503)
    run = pull()
    assert run.status == SyncRunStatus.SUCCEEDED
    assert run.rate_limit_waits >= 3
    assert client_sleep.waits, "the client should have waited (via the injected sleep)"
    assert db_session.scalar(select(func.count()).select_from(Contact)) == len(all_patients(sandbox))


def test_persistent_outage_fails_the_run_with_a_readable_error(pull, sandbox, db_session) -> None:
    """When Cliniko keeps failing, the run says so in words staff understand."""
    sandbox.store.inject_fault("server_error", times=1000, status=500)
    with pytest.raises(ClinikoUnavailable):
        pull()
    run = db_session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
    assert run.status == SyncRunStatus.FAILED
    assert "Cliniko" in run.error and "Traceback" not in run.error


def test_malformed_record_is_skipped_and_reported(pull, sandbox, db_session) -> None:
    """One broken patient is listed on the run; every other record is stored."""
    patients = all_patients(sandbox)
    broken = patients[3]["id"]
    sandbox.store.malform_patient(broken, set={"first_name": 12345, "created_at": "not a time"})
    run = pull()
    assert run.status == SyncRunStatus.PARTIAL
    assert [p["id"] for p in run.problems] == [broken]
    assert run.counts["patients"]["skipped"] == 1
    stored = set(db_session.scalars(select(Contact.cliniko_patient_id)))
    assert stored == {p["id"] for p in patients} - {broken}


def test_interrupted_pull_leaves_a_consistent_database_and_the_next_run_completes(
    connected_app, pull, sandbox, db_session
) -> None:
    """A pull stopped after a few pages is completed by the next run, with nothing doubled."""
    database = get_database(connected_app)
    pages = {"n": 0}

    def stop_after_three_pages() -> None:
        pages["n"] += 1
        if pages["n"] == 6:
            raise KeyboardInterrupt("worker killed")

    with connected_app.app_context(), database.session() as session:
        run = create_run(session, full=False, trigger="test", clock=context.clock(connected_app))
        session.commit()
        connection = active_connection(session)
        from oncord.integration import client_for

        client = client_for(connection, context.settings(connected_app), context.secret_box(connected_app))
    sync = PullSync(
        database,
        client,
        context.clock(connected_app),
        overlap=__import__("datetime").timedelta(0),
        heartbeat=stop_after_three_pages,
    )
    with pytest.raises(KeyboardInterrupt):
        sync.run(run.id, full=False)
    interrupted = db_session.get(SyncRun, run.id)
    assert interrupted.status == SyncRunStatus.FAILED
    partial = db_session.scalar(select(func.count()).select_from(Appointment))
    assert 0 < partial < len(all_appointments(sandbox))

    pull()
    assert db_session.scalar(select(func.count()).select_from(Appointment)) == appointment_rows(sandbox)
    assert db_session.scalar(select(func.count()).select_from(Contact)) == len(all_patients(sandbox))
    dupes = db_session.scalar(
        select(func.count()).select_from(
            select(ActivityEvent.dedupe_key)
            .group_by(ActivityEvent.dedupe_key)
            .having(func.count() > 1)
            .subquery()
        )
    )
    assert dupes == 0


def test_rejected_key_stores_nothing(app, sandbox, db_session) -> None:
    """A wrong key gives the staff message for a rejected key and no connection row."""
    from dataclasses import replace

    app.extensions["oncord.settings"] = replace(context.settings(app), cliniko_api_base_url=sandbox.base_url)
    with pytest.raises(AuthenticationFailed) as info:
        connect_cliniko(
            db_session,
            api_key="MS1ub3QtYS1yZWFsLWtleQ-au1",
            settings=context.settings(app),
            secret_box=context.secret_box(app),
            clock=context.clock(app),
        )
    assert "rejected the API key" in info.value.user_message
    assert active_connection(db_session) is None
