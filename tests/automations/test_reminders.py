"""Reminders end to end: consent, quiet hours, reschedules, cancellations, outages, stale pulls."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from oncord.models import ActivityEvent
from tests.automations.conftest import appointment_of, contact_of, iso
from tests.automations.helpers import make_automation, sends


def test_consent_decides_per_channel_and_kind(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink, fake_twilio
) -> None:
    """A service reminder reaches Pending contacts; marketing only Subscribed; Unsubscribed never."""
    subscribed = make_patient("Sub", email_consent=True, sms_consent=True)
    pending = make_patient("Pen", email_consent=False, sms_consent=False, mobile="0413 000 001")
    unsubscribed = make_patient("Uns", email_consent=True, sms_consent=True, mobile="0413 000 002")
    no_address = make_patient("Nob", email=False, mobile=None)
    pull()
    contact_of(db_session, unsubscribed).email_marketing_status = "unsubscribed"
    contact_of(db_session, unsubscribed).sms_marketing_status = "unsubscribed"
    service = make_automation(db_session, clock, name="Reminder (service)")
    marketing = make_automation(db_session, clock, name="Reminder (marketing)", is_service=False)
    db_session.commit()
    starts = clock.now() + timedelta(days=2)
    for patient in (subscribed, pending, unsubscribed, no_address):
        sandbox.store.add_appointment(patient_id=patient.cliniko_id, starts_at=iso(starts))
    clock.set(starts - timedelta(hours=24))
    pull()
    dispatch()

    def outcome(automation, patient):
        contact_id = contact_of(db_session, patient).id
        return {
            s.channel: s.reason or s.state
            for s in sends(db_session, automation_id=automation.id, contact_id=contact_id)
        }

    assert outcome(service, subscribed) == {"email": "sent", "sms": "sent"}
    assert outcome(service, pending) == {"email": "sent", "sms": "sent"}
    assert outcome(service, unsubscribed) == {"email": "unsubscribed", "sms": "unsubscribed"}
    assert outcome(service, no_address) == {"email": "no_email", "sms": "no_mobile"}
    assert outcome(marketing, subscribed) == {"email": "sent", "sms": "sent"}
    assert outcome(marketing, pending) == {"email": "no_consent", "sms": "no_consent"}
    assert outcome(marketing, unsubscribed) == {"email": "unsubscribed", "sms": "unsubscribed"}
    assert sorted(m.rcpt_tos[0] for m in smtp_sink.received) == sorted(
        [subscribed.email, subscribed.email, pending.email]
    )
    assert sorted(m.to for m in fake_twilio.received) == ["+61412345678", "+61412345678", "+61413000001"]
    marketing_sms = [m for m in fake_twilio.received if "Opt out: " in m.body]
    assert len(marketing_sms) == 1 and marketing_sms[0].to == "+61412345678"


def test_rescheduled_appointment_gets_its_reminder_at_the_new_time(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink
) -> None:
    """Moved two days later before the reminder time: nothing at the old time, one at the new one."""
    patient = make_patient("Mason")
    pull()
    make_automation(db_session, clock, send_sms=False)
    db_session.commit()
    old = clock.now() + timedelta(days=3)
    booking = sandbox.store.add_appointment(patient_id=patient.cliniko_id, starts_at=iso(old))
    clock.advance(days=1)
    new = old + timedelta(days=2)
    sandbox.store.update_appointment(booking, starts_at=iso(new))
    pull()
    clock.set(old - timedelta(hours=24) + timedelta(minutes=1))
    pull()
    dispatch()
    assert smtp_sink.received == [] and sends(db_session) == []
    clock.set(new - timedelta(hours=24))
    pull()
    dispatch()
    dispatch()
    assert len(smtp_sink.received) == 1
    appointment = appointment_of(db_session, booking)
    assert appointment.starts_at == new


def test_cancelled_before_the_reminder_time_is_skipped_and_logged(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink, fake_twilio
) -> None:
    """No reminder for an appointment cancelled before its reminder was due; the log and feed say why."""
    patient = make_patient("Zoe")
    pull()
    make_automation(db_session, clock)
    db_session.commit()
    starts = clock.now() + timedelta(days=3)
    booking = sandbox.store.add_appointment(patient_id=patient.cliniko_id, starts_at=iso(starts))
    clock.advance(days=1)
    sandbox.store.cancel_appointment(booking, reason=10)
    pull()
    clock.set(starts - timedelta(hours=24) + timedelta(minutes=1))
    pull()
    dispatch()
    assert smtp_sink.received == [] and fake_twilio.received == []
    rows = sends(db_session)
    assert {(r.channel, r.state, r.reason) for r in rows} == {
        ("email", "skipped", "cancelled_before_due"),
        ("sms", "skipped", "cancelled_before_due"),
    }
    feed = db_session.scalars(select(ActivityEvent).where(ActivityEvent.kind == "message_skipped")).all()
    assert len(feed) == 2 and {e.contact_id for e in feed} == {contact_of(db_session, patient).id}


def test_after_an_outage_reminders_still_ahead_go_and_past_ones_are_logged(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink
) -> None:
    """Workers down past two reminder times: the appointment still ahead is reminded, the past one skipped."""
    past, ahead = make_patient("Past"), make_patient("Ahead")
    pull()
    make_automation(db_session, clock, send_sms=False)
    db_session.commit()
    start = clock.now()
    gone = sandbox.store.add_appointment(
        patient_id=past.cliniko_id, starts_at=iso(start + timedelta(hours=26))
    )
    sandbox.store.add_appointment(patient_id=ahead.cliniko_id, starts_at=iso(start + timedelta(hours=29)))
    pull()
    clock.set(start + timedelta(hours=27))  # nothing ran for 27 hours
    pull()
    dispatch()
    assert [m.rcpt_tos for m in smtp_sink.received] == [(ahead.email,)]
    skipped = sends(db_session, state="skipped")
    assert [(s.appointment_id, s.reason) for s in skipped] == [
        (appointment_of(db_session, gone).id, "already_started")
    ]


def test_a_stale_pull_means_cliniko_is_asked_just_before_sending(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink
) -> None:
    """Cancelled in Cliniko after the last pull, which is older than the poll interval: no reminder."""
    patient = make_patient("Ruby")
    pull()
    make_automation(db_session, clock, send_sms=False)
    db_session.commit()
    starts = clock.now() + timedelta(days=2)
    booking = sandbox.store.add_appointment(patient_id=patient.cliniko_id, starts_at=iso(starts))
    pull()
    clock.set(starts - timedelta(hours=24))
    sandbox.store.cancel_appointment(booking)  # not pulled: the last pull is a day old
    dispatch()
    assert smtp_sink.received == []
    assert [(s.state, s.reason) for s in sends(db_session)] == [("skipped", "cancelled_before_due")]
    db_session.expire_all()
    assert appointment_of(db_session, booking).cancelled_at is not None
