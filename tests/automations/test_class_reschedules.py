"""A class moved in Cliniko: each attendance keeps its previous start, the feed says so, reminders
follow the new time and the rescheduled trigger fires once per attendance (sandbox over HTTP,
real Redis, the app clock)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from oncord.models import Appointment
from oncord.web.timefmt import localtime
from tests.automations.conftest import contact_of, iso, log_in_staff
from tests.automations.helpers import make_automation, sends
from tests.automations.test_rescheduled import MOVED


def _attendance(session, cliniko_id: str) -> Appointment:
    session.expire_all()
    return session.scalars(
        select(Appointment).where(Appointment.kind == "class", Appointment.cliniko_id == cliniko_id)
    ).one()


def test_a_moved_class_reschedules_each_attendance_once(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink
) -> None:
    """Two attendees get one "moved" e-mail each and their reminder at the new time only; a cancelled
    attendee gets neither; each feed says "Rescheduled from … to …"."""
    ava, ben, cat = make_patient("Ava"), make_patient("Ben"), make_patient("Cat")
    pull()
    reminder = make_automation(db_session, clock, send_sms=False)
    moved = make_automation(db_session, clock, name="Moved", trigger="rescheduled", send_sms=False, **MOVED)
    db_session.commit()
    old = clock.now() + timedelta(days=3)
    group = sandbox.store.add_group_appointment(starts_at=iso(old))
    attendees = {p.cliniko_id: sandbox.store.add_attendee(group_appointment_id=group, patient_id=p.cliniko_id)
                 for p in (ava, ben, cat)}
    sandbox.store.cancel_attendee(attendees[cat.cliniko_id], reason=30)
    clock.advance(minutes=5)
    pull()
    dispatch()
    assert smtp_sink.received == []  # booked, not moved

    clock.advance(hours=1)
    new = old + timedelta(days=2)
    sandbox.store.update_group_appointment(group, starts_at=iso(new))
    clock.advance(minutes=5)
    for _ in range(2):
        pull()
        dispatch()
        clock.advance(minutes=1)
    coming = {ava.email, ben.email}
    assert sorted(m.rcpt_tos for m in smtp_sink.received) == sorted((e,) for e in coming)
    assert all(m.message["Subject"].startswith("Moved: ") for m in smtp_sink.received)
    moved_sends = sends(db_session, automation_id=moved.id)
    assert sorted((s.contact_id, s.state) for s in moved_sends) == sorted(
        (contact_of(db_session, p).id, "sent") for p in (ava, ben)
    )

    clock.set(old - timedelta(hours=24) + timedelta(minutes=1))
    pull()
    dispatch()
    assert len(smtp_sink.received) == 2 and sends(db_session, automation_id=reminder.id) == []
    clock.set(new - timedelta(hours=24))
    pull()
    dispatch()
    dispatch()
    reminders = [m for m in smtp_sink.received if m.message["Subject"].startswith("Reminder: ")]
    assert sorted(m.rcpt_tos for m in reminders) == sorted((e,) for e in coming)
    assert len(sends(db_session, automation_id=moved.id)) == 2

    with connected.app_context():
        moved_from, moved_to = localtime(old), localtime(new)
    browser = log_in_staff(connected, db_session, clock)
    for patient in (ava, ben, cat):
        row = _attendance(db_session, attendees[patient.cliniko_id])
        page = browser.get(f"/contacts/{row.contact_id}").get_data(as_text=True)
        texts = re.findall(r'<p class="feed-text">([^<]+)</p>', page)
        moves = [t for t in texts if t.startswith("Rescheduled")]
        if patient is cat:
            assert row.previous_starts_at is None and moves == []
            continue
        assert (row.previous_starts_at, row.starts_at) == (old, new)
        what = f"{row.appointment_type.name} class with {row.practitioner.display_name}"
        assert moves == [f"Rescheduled from {moved_from} to {moved_to}: {what}"]
