"""Automation promises a clinic relies on: go-live, the service-message exception, archived patients."""

from __future__ import annotations

from datetime import timedelta

import pytest

from oncord.jobs.enqueue import DISPATCH_JOB
from oncord.queue import get_queue
from tests.automations.conftest import contact_of, iso
from tests.automations.helpers import make_automation, sends
from tests.automations.test_triggers import FOLLOW_UP
from tests.fixtures.cliniko import connect_to_sandbox, pull_in_process


@pytest.mark.parametrize("first", ["automation switched on", "Cliniko connected"])
def test_nothing_before_the_later_of_connecting_and_switching_on_fires(
    first, messaging_app, sandbox, make_patient, db_session, clock, run_jobs, smtp_sink
) -> None:
    """A cancellation between the earlier and the later of the two moments sends nothing; one after, does."""
    early, late = make_patient("Early"), make_patient("Late")
    starts = clock.now() + timedelta(days=3)
    bookings = {p.cliniko_id: sandbox.store.add_appointment(patient_id=p.cliniko_id, starts_at=iso(starts))
                for p in (early, late)}

    def switch_on():
        make_automation(db_session, clock, name="Rebook", trigger="cancelled", send_sms=False, **FOLLOW_UP)
        db_session.commit()

    def connect():
        connect_to_sandbox(messaging_app, sandbox)

    (switch_on if first == "automation switched on" else connect)()
    clock.advance(hours=1)
    sandbox.store.cancel_appointment(bookings[early.cliniko_id], reason=40)  # after one, before the other
    clock.advance(hours=1)
    (connect if first == "automation switched on" else switch_on)()
    clock.advance(hours=1)
    sandbox.store.cancel_appointment(bookings[late.cliniko_id], reason=40)  # after both
    clock.advance(minutes=1)
    for _ in range(2):
        pull_in_process(messaging_app)
        get_queue(messaging_app).enqueue(DISPATCH_JOB, "test")
        run_jobs()
        clock.advance(minutes=1)

    assert [m.rcpt_tos for m in smtp_sink.received] == [(late.email,)]
    assert {s.contact_id for s in sends(db_session)} == {contact_of(db_session, late).id}


def _fire(trigger: str, sandbox, bookings: list[str], clock) -> None:
    """Make the trigger happen in Cliniko, at one moment, for bookings that start in two hours."""
    if trigger == "did_not_arrive":
        clock.advance(hours=2, minutes=20)
    elif trigger == "finished":
        clock.advance(hours=3, minutes=5)
    for booking in bookings:
        if trigger == "cancelled":
            sandbox.store.cancel_appointment(booking, reason=40)
        elif trigger == "did_not_arrive":
            sandbox.store.mark_did_not_arrive(booking)
        else:
            sandbox.store.mark_arrived(booking)


@pytest.mark.parametrize("trigger", ["cancelled", "did_not_arrive", "finished"])
def test_the_service_exception_is_for_reminders_only(
    trigger, connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink
) -> None:
    """An automation marked as a service message but not a reminder still needs Subscribed."""
    subscribed = make_patient("Subscribed", email_consent=True)
    pending = make_patient("Pending", email_consent=False)
    pull()
    automation = make_automation(db_session, clock, name="Follow-up", trigger=trigger, send_sms=False,
                                 **{**FOLLOW_UP, "is_service": True})
    db_session.commit()
    starts = clock.now() + timedelta(hours=2)
    bookings = [sandbox.store.add_appointment(patient_id=p.cliniko_id, starts_at=iso(starts))
                for p in (subscribed, pending)]
    clock.advance(minutes=10)
    pull()
    _fire(trigger, sandbox, bookings, clock)
    for _ in range(2):
        pull()
        dispatch()
        clock.advance(minutes=1)

    assert [m.rcpt_tos for m in smtp_sink.received] == [(subscribed.email,)]
    outcome = {s.contact_id: (s.state, s.reason) for s in sends(db_session, automation_id=automation.id)}
    assert outcome[contact_of(db_session, pending).id] == ("skipped", "no_consent")


def test_the_service_exception_lets_a_reminder_reach_a_pending_contact(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink
) -> None:
    """The counterpart: the same Pending contact does get a service reminder."""
    pending = make_patient("Pending", email_consent=False)
    pull()
    make_automation(db_session, clock, send_sms=False)
    db_session.commit()
    starts = clock.now() + timedelta(days=2)
    sandbox.store.add_appointment(patient_id=pending.cliniko_id, starts_at=iso(starts))
    clock.set(starts - timedelta(hours=24))
    pull()
    dispatch()
    assert [m.rcpt_tos for m in smtp_sink.received] == [(pending.email,)]


@pytest.mark.parametrize("trigger", ["upcoming", "cancelled"])
def test_a_patient_archived_in_cliniko_is_not_messaged(
    trigger, connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink, fake_twilio
) -> None:
    """Archived in Cliniko after booking: the next pull archives the contact and nothing is sent."""
    archived, kept = make_patient("Archived"), make_patient("Kept", mobile="0413 111 222")
    pull()
    automation = make_automation(db_session, clock, name="Auto", trigger=trigger,
                                 **(FOLLOW_UP if trigger != "upcoming" else {}))
    db_session.commit()
    starts = clock.now() + timedelta(days=2)
    bookings = [sandbox.store.add_appointment(patient_id=p.cliniko_id, starts_at=iso(starts))
                for p in (archived, kept)]
    clock.advance(minutes=5)
    pull()
    clock.advance(minutes=5)
    sandbox.store.archive_patient(archived.cliniko_id)
    if trigger == "upcoming":
        clock.set(starts - timedelta(hours=24))
    else:
        for booking in bookings:
            sandbox.store.cancel_appointment(booking, reason=40)
    for _ in range(2):
        pull()
        dispatch()
        clock.advance(minutes=1)

    assert contact_of(db_session, archived).archived_at is not None
    assert {m.rcpt_tos for m in smtp_sink.received} == {(kept.email,)}
    assert {m.to for m in fake_twilio.received} == {"+61413111222"}
    gone = contact_of(db_session, archived).id
    assert {(s.state, s.reason) for s in sends(db_session, automation_id=automation.id, contact_id=gone)} \
        == {("skipped", "contact_archived")}
