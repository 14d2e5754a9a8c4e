"""Reschedules: the feed keeps the previous start, reminders follow the move, and the rescheduled
trigger fires once per appointment, only for moves after go-live (sandbox over HTTP, real Redis)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from oncord.models import ActivityEvent
from oncord.web.timefmt import localtime
from tests.automations.conftest import appointment_of, contact_of, iso, log_in_staff
from tests.automations.helpers import make_automation, sends
from tests.automations.test_triggers import FOLLOW_UP

MOVED = {**FOLLOW_UP, "email_subject": "Moved: {{ appointment_start }}",
         "email_body": "New time: {{ appointment_start }}"}


def _subjects(smtp_sink) -> list[str]:
    return [m.message["Subject"] for m in smtp_sink.received]


def test_a_reschedule_fires_once_and_moves_the_reminder(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink
) -> None:
    """Moved two days later: one "moved" e-mail, no reminder at the old time, one at the new time,
    and the feed says "Rescheduled from … to …"."""
    patient = make_patient("Noah")
    pull()
    reminder = make_automation(db_session, clock, send_sms=False)
    moved = make_automation(db_session, clock, name="Moved", trigger="rescheduled", send_sms=False, **MOVED)
    db_session.commit()
    old = clock.now() + timedelta(days=3)
    booking = sandbox.store.add_appointment(patient_id=patient.cliniko_id, starts_at=iso(old))
    clock.advance(minutes=5)
    pull()
    dispatch()
    assert smtp_sink.received == []  # booked, not moved

    clock.advance(hours=1)
    new = old + timedelta(days=2)
    sandbox.store.update_appointment(booking, starts_at=iso(new))
    clock.advance(minutes=5)
    pull()
    dispatch()
    clock.advance(minutes=1)
    pull()
    dispatch()
    assert len(smtp_sink.received) == 1 and _subjects(smtp_sink)[0].startswith("Moved: ")
    assert [(s.state, s.trigger_key) for s in sends(db_session, automation_id=moved.id)] == [
        ("sent", "rescheduled")
    ]

    clock.set(old - timedelta(hours=24) + timedelta(minutes=1))
    pull()
    dispatch()
    assert len(smtp_sink.received) == 1 and sends(db_session, automation_id=reminder.id) == []
    clock.set(new - timedelta(hours=24))
    pull()
    dispatch()
    dispatch()
    assert len(smtp_sink.received) == 2 and _subjects(smtp_sink)[1].startswith("Reminder: ")
    assert [s.state for s in sends(db_session, automation_id=reminder.id)] == ["sent"]
    assert len(sends(db_session, automation_id=moved.id)) == 1

    appointment = appointment_of(db_session, booking)
    assert (appointment.previous_starts_at, appointment.starts_at) == (old, new)
    contact = contact_of(db_session, patient)
    page = log_in_staff(connected, db_session, clock).get(f"/contacts/{contact.id}").get_data(as_text=True)
    texts = re.findall(r'<p class="feed-text">([^<]+)</p>', page)
    with connected.app_context():
        moved_from, moved_to = localtime(old), localtime(new)
    what = f"{appointment.appointment_type.name} with {appointment.practitioner.display_name}"
    moves = [t for t in texts if t.startswith("Rescheduled")]
    assert moves == [f"Rescheduled from {moved_from} to {moved_to}: {what}"]


def test_only_moves_after_go_live_fire(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink
) -> None:
    """A move pulled before the automation was switched on sends nothing, then or later; one after does."""
    early, late = make_patient("Early"), make_patient("Late")
    starts = clock.now() + timedelta(days=5)
    bookings = {p.cliniko_id: sandbox.store.add_appointment(patient_id=p.cliniko_id, starts_at=iso(starts))
                for p in (early, late)}
    pull()
    clock.advance(hours=1)
    sandbox.store.update_appointment(bookings[early.cliniko_id], starts_at=iso(starts + timedelta(hours=2)))
    clock.advance(minutes=5)
    pull()
    clock.advance(hours=1)
    make_automation(db_session, clock, name="Moved", trigger="rescheduled", send_sms=False, **MOVED)
    db_session.commit()
    clock.advance(hours=1)
    sandbox.store.update_appointment(bookings[late.cliniko_id], starts_at=iso(starts + timedelta(hours=3)))
    clock.advance(minutes=5)
    for _ in range(2):
        pull()
        dispatch()
        clock.advance(minutes=1)

    assert [m.rcpt_tos for m in smtp_sink.received] == [(late.email,)]
    assert {s.contact_id for s in sends(db_session)} == {contact_of(db_session, late).id}
    # Both moves are in the feeds, whatever the automations did.
    moves = db_session.scalars(select(ActivityEvent).where(ActivityEvent.kind == "appointment_rescheduled"))
    assert sorted(e.contact_id for e in moves) == sorted(contact_of(db_session, p).id for p in (early, late))


def test_a_first_pull_never_counts_as_a_move(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink
) -> None:
    """An appointment first seen at its new time (moved before it was ever pulled) is not rescheduled."""
    patient = make_patient("Ivy")
    make_automation(db_session, clock, name="Moved", trigger="rescheduled", send_sms=False, **MOVED)
    db_session.commit()
    starts = clock.now() + timedelta(days=2)
    booking = sandbox.store.add_appointment(patient_id=patient.cliniko_id, starts_at=iso(starts))
    clock.advance(minutes=5)
    sandbox.store.update_appointment(booking, starts_at=iso(starts + timedelta(days=1)))
    clock.advance(minutes=5)
    pull()
    dispatch()
    assert smtp_sink.received == [] and sends(db_session) == []
    assert appointment_of(db_session, booking).previous_starts_at is None


def test_a_second_move_adds_a_feed_entry_but_no_second_message_and_a_cancelled_one_sends_nothing(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink
) -> None:
    """Once per appointment: moved twice, one message (two feed entries); moved then cancelled before
    the message is due, none."""
    twice, cancelled = make_patient("Twice"), make_patient("Gone")
    pull()
    make_automation(db_session, clock, name="Moved", trigger="rescheduled", send_sms=False,
                    **{**MOVED, "offset_minutes": 60})
    db_session.commit()
    starts = clock.now() + timedelta(days=4)
    first = sandbox.store.add_appointment(patient_id=twice.cliniko_id, starts_at=iso(starts))
    second = sandbox.store.add_appointment(patient_id=cancelled.cliniko_id, starts_at=iso(starts))
    pull()
    clock.advance(minutes=10)
    for booking in (first, second):
        sandbox.store.update_appointment(booking, starts_at=iso(starts + timedelta(days=1)))
    pull()
    clock.advance(minutes=10)
    sandbox.store.cancel_appointment(second, reason=40)
    pull()
    clock.advance(hours=1)
    dispatch()
    sandbox.store.update_appointment(first, starts_at=iso(starts + timedelta(days=2)))
    clock.advance(hours=2)
    for _ in range(2):
        pull()
        dispatch()
        clock.advance(minutes=1)

    assert [m.rcpt_tos for m in smtp_sink.received] == [(twice.email,)]
    outcomes = {(s.contact_id, s.state, s.reason) for s in sends(db_session)}
    assert outcomes == {(contact_of(db_session, twice).id, "sent", None)}
    moves = db_session.scalars(select(ActivityEvent).where(
        ActivityEvent.kind == "appointment_rescheduled",
        ActivityEvent.contact_id == contact_of(db_session, twice).id,
    ))
    assert [e.details["to"] for e in sorted(moves, key=lambda e: e.occurred_at)] == [
        (starts + timedelta(days=1)).isoformat(), (starts + timedelta(days=2)).isoformat()
    ]
