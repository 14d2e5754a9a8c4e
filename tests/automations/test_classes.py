"""Class attendees reach the automations like any patient with an appointment: once each."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from oncord.models import Appointment
from tests.automations.conftest import contact_of, iso
from tests.automations.helpers import make_automation, sends
from tests.automations.test_triggers import FOLLOW_UP


def _class_rows(session) -> list[Appointment]:
    session.expire_all()
    return list(session.scalars(select(Appointment).where(Appointment.kind == "class")))


def test_upcoming_reminder_goes_once_to_each_class_attendee(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink
) -> None:
    """Two patients booked into one class each get one reminder; a cancelled third gets none."""
    ava, ben, cat = make_patient("Ava"), make_patient("Ben"), make_patient("Cat")
    pull()
    automation = make_automation(db_session, clock, send_sms=False)
    db_session.commit()
    starts = clock.now() + timedelta(days=2, hours=1)
    group = sandbox.store.add_group_appointment(starts_at=iso(starts))
    for patient in (ava, ben, cat):
        attendee = sandbox.store.add_attendee(group_appointment_id=group, patient_id=patient.cliniko_id)
    clock.advance(minutes=5)
    sandbox.store.cancel_attendee(attendee, reason=30)
    pull()
    clock.set(starts - timedelta(hours=24) + timedelta(seconds=30))
    pull()
    dispatch()
    dispatch()
    clock.advance(minutes=10)
    pull()
    dispatch()

    assert sorted(m.rcpt_tos for m in smtp_sink.received) == sorted([(ava.email,), (ben.email,)])
    assert all("Hi " in m.text() for m in smtp_sink.received)
    rows = sends(db_session, automation_id=automation.id)
    sent = {r.contact_id for r in rows if r.state == "sent"}
    assert sent == {contact_of(db_session, ava).id, contact_of(db_session, ben).id}
    assert len(rows) == 3  # the cancelled attendee's reminder is recorded as skipped, not sent


def test_class_attendee_who_did_not_arrive_gets_one_follow_up(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, fake_twilio
) -> None:
    """`arrived: false` once the class is over is a did-not-arrive: one SMS, and only to them."""
    missed, came = make_patient("Chloe"), make_patient("Dan", mobile="0413 222 333")
    pull()
    make_automation(db_session, clock, name="Missed you", trigger="did_not_arrive", send_email=False,
                    **FOLLOW_UP)
    db_session.commit()
    starts = clock.now() + timedelta(hours=2)
    group = sandbox.store.add_group_appointment(starts_at=iso(starts))
    sandbox.store.add_attendee(group_appointment_id=group, patient_id=missed.cliniko_id)
    arrived = sandbox.store.add_attendee(group_appointment_id=group, patient_id=came.cliniko_id)
    pull()
    dispatch()
    assert fake_twilio.received == []
    clock.set(starts + timedelta(minutes=20))
    sandbox.store.set_attendee_arrived(arrived, True)
    pull()
    assert not any(r.did_not_arrive for r in _class_rows(db_session))  # the class is not over yet
    clock.set(starts + timedelta(hours=1, minutes=5))
    pull()  # nothing changed in Cliniko: the class simply ended
    dispatch()
    dispatch()
    clock.advance(minutes=10)
    pull()
    dispatch()

    assert [m.to for m in fake_twilio.received] == ["+61412345678"]
    assert fake_twilio.received[0].body.startswith("Hi Chloe, we missed you at ")


def test_a_stale_pull_rereads_the_attendee_before_the_reminder_goes(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink
) -> None:
    """After a pull long ago the sender asks Cliniko for each attendee: the one still booked gets the
    reminder, the one cancelled since gets nothing."""
    kept, gone = make_patient("Eve"), make_patient("Finn")
    pull()
    automation = make_automation(db_session, clock, send_sms=False)
    db_session.commit()
    starts = clock.now() + timedelta(days=2, hours=1)
    group = sandbox.store.add_group_appointment(starts_at=iso(starts))
    attendees = [
        sandbox.store.add_attendee(group_appointment_id=group, patient_id=p.cliniko_id) for p in (kept, gone)
    ]
    pull()
    clock.set(starts - timedelta(hours=24) + timedelta(seconds=30))
    sandbox.store.cancel_attendee(attendees[1], reason=30)
    sandbox.store.reset_requests()
    dispatch()
    dispatch()

    assert [m.rcpt_tos for m in smtp_sink.received] == [(kept.email,)]
    asked = {r["path"].rsplit("/", 1)[1] for r in sandbox.store.request_log() if "/attendees/" in r["path"]}
    assert asked == set(attendees)
    states = {r.contact_id: r.state for r in sends(db_session, automation_id=automation.id)}
    assert states == {contact_of(db_session, kept).id: "sent", contact_of(db_session, gone).id: "skipped"}


def test_care_instructions_after_a_class_skip_attendees_never_marked_arrived(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink
) -> None:
    """"Finished" goes to the class attendee marked arrived, never to one left `arrived: false`,
    not even in the minutes between the class ending and the next pull."""
    came, absent = make_patient("Hana"), make_patient("Ivan")
    pull()
    automation = make_automation(db_session, clock, name="Care", trigger="finished", send_sms=False,
                                 **{**FOLLOW_UP, "offset_minutes": 0})
    db_session.commit()
    starts = clock.now() + timedelta(hours=2)
    group = sandbox.store.add_group_appointment(starts_at=iso(starts))
    arrived = sandbox.store.add_attendee(group_appointment_id=group, patient_id=came.cliniko_id)
    sandbox.store.add_attendee(group_appointment_id=group, patient_id=absent.cliniko_id)
    clock.set(starts + timedelta(minutes=10))
    sandbox.store.set_attendee_arrived(arrived, True)
    pull()
    clock.set(starts + timedelta(hours=1, minutes=2))  # the class is over; no pull yet
    dispatch()
    dispatch()
    pull()
    dispatch()

    assert [m.rcpt_tos for m in smtp_sink.received] == [(came.email,)]
    planned = {r.contact_id for r in sends(db_session, automation_id=automation.id)}
    assert planned == {contact_of(db_session, came).id}
