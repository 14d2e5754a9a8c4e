"""Each trigger end to end: the sandbox changes an appointment, a pull brings it in, the dispatcher
(run by an in-process RQ worker on the test clock) sends exactly one message to the right person."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from oncord.models import ActivityEvent
from tests.automations.conftest import appointment_of, contact_of, iso
from tests.automations.helpers import make_automation, sends
from tests.fixtures.messaging import SENDER_EMAIL


def test_upcoming_reminder_goes_once_by_email_and_sms(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink, fake_twilio
) -> None:
    """A 24-hour reminder reaches the patient once per channel, with merged text in the clinic's zone."""
    patient = make_patient("Olivia")
    pull()
    make_automation(db_session, clock)
    db_session.commit()
    starts = clock.now() + timedelta(days=2, hours=1)
    # A practitioner at the Brisbane location: no daylight saving there, an hour behind Melbourne
    # (the app's fallback zone) in November, so the wrong zone would show the wrong time.
    catalog = sandbox.store.catalog
    brisbane = next(
        k
        for k, row in enumerate(catalog.practitioners.rows)
        if row["active"]
        and catalog.businesses.rows[row["business"]]["time_zone_identifier"] == "Australia/Brisbane"
    )
    practitioner_id = str(sandbox.store.tables["practitioners"].codec.encode(brisbane))
    booking = sandbox.store.add_appointment(
        patient_id=patient.cliniko_id, starts_at=iso(starts), practitioner_id=practitioner_id
    )
    clock.advance(minutes=5)
    pull()
    dispatch()
    assert smtp_sink.received == [] and fake_twilio.received == []

    clock.set(starts - timedelta(hours=24) + timedelta(seconds=30))
    pull()
    dispatch()
    dispatch()

    assert len(smtp_sink.received) == 1 and len(fake_twilio.received) == 1
    appointment = appointment_of(db_session, booking)
    assert appointment.business.time_zone_identifier == "Australia/Brisbane"
    local = starts.astimezone(ZoneInfo("Australia/Brisbane"))
    when = f"{local:%A} {local.day} {local:%B} at {local:%I}".replace(" at 0", " at ") + f":{local:%M}"
    email = smtp_sink.received[0]
    assert email.rcpt_tos == (patient.email,) and email.mail_from == SENDER_EMAIL
    assert "Hi Olivia," in email.text() and when in email.text()
    assert appointment.practitioner.display_name in email.text()
    assert email.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    sms = fake_twilio.received[0]
    assert sms.to == "+61412345678" and sms.sender == "Sunnyside"
    assert sms.body.startswith("Hi Olivia, reminder: " + when)
    assert "Opt out" not in sms.body  # a service message
    assert fake_twilio.violations == []
    rows = sends(db_session)
    assert [(r.channel, r.state) for r in rows] == [("email", "sent"), ("sms", "sent")]
    contact = contact_of(db_session, patient)
    kinds = sorted(
        e.kind
        for e in db_session.scalars(select(ActivityEvent).where(ActivityEvent.contact_id == contact.id))
        if e.kind.endswith("_sent")
    )
    assert kinds == ["email_sent", "sms_sent"]
