"""Cancelled, did-not-arrive and finished triggers end to end; go-live; late bookings; filters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from oncord.models import ActivityEvent, AutomationSend, Contact
from tests.automations.conftest import contact_of, iso
from tests.automations.helpers import make_automation, sends

FOLLOW_UP = {
    "is_service": False,
    "offset_minutes": 0,
    "email_subject": "Sorry we missed you, {{ first_name }}",
    "email_body": "Hi {{ first_name }}, rebook here: {{ book_now_url }}",
    "sms_body": "Hi {{ first_name }}, we missed you at {{ business }}. Rebook: {{ book_now_url }}",
}


def test_cancellation_sends_one_rebooking_nudge_to_subscribed_contacts_only(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink
) -> None:
    """A cancellation e-mails the Subscribed contact once; the Pending one is skipped and told why."""
    subscribed = make_patient("Ava", email_consent=True)
    pending = make_patient("Ben", email_consent=False)
    pull()
    automation = make_automation(
        db_session, clock, name="Rebook", trigger="cancelled", send_sms=False, **FOLLOW_UP
    )
    db_session.commit()
    starts = clock.now() + timedelta(days=3)
    bookings = [
        sandbox.store.add_appointment(patient_id=p.cliniko_id, starts_at=iso(starts))
        for p in (subscribed, pending)
    ]
    clock.advance(hours=1)
    for booking in bookings:
        sandbox.store.cancel_appointment(booking, reason=40)
    pull()
    dispatch()
    clock.advance(minutes=1)
    pull()
    dispatch()

    assert [m.rcpt_tos for m in smtp_sink.received] == [(subscribed.email,)]
    message = smtp_sink.received[0]
    assert message.message["Subject"] == "Sorry we missed you, Ava"
    assert "/u/" in message.message["List-Unsubscribe"]
    outcomes = {(s.contact_id, s.state, s.reason) for s in sends(db_session, automation_id=automation.id)}
    assert outcomes == {
        (contact_of(db_session, subscribed).id, "sent", None),
        (contact_of(db_session, pending).id, "skipped", "no_consent"),
    }
    skipped = db_session.scalars(select(ActivityEvent).where(ActivityEvent.kind == "message_skipped")).one()
    assert skipped.contact_id == contact_of(db_session, pending).id
    assert skipped.details["reason"] == "no_consent" and skipped.details["automation"] == "Rebook"


def test_did_not_arrive_sends_one_sms_with_opt_out(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, fake_twilio
) -> None:
    """Marked did-not-arrive in Cliniko: one marketing SMS ending with a working opt-out link."""
    missed, came = make_patient("Chloe"), make_patient("Dan", mobile="0413 222 333")
    pull()
    make_automation(
        db_session, clock, name="Missed you", trigger="did_not_arrive", send_email=False, **FOLLOW_UP
    )
    db_session.commit()
    starts = clock.now() + timedelta(hours=2)
    first = sandbox.store.add_appointment(patient_id=missed.cliniko_id, starts_at=iso(starts))
    second = sandbox.store.add_appointment(patient_id=came.cliniko_id, starts_at=iso(starts))
    clock.set(starts + timedelta(minutes=20))
    sandbox.store.mark_did_not_arrive(first)
    sandbox.store.mark_arrived(second)
    pull()
    dispatch()
    dispatch()

    assert [m.to for m in fake_twilio.received] == ["+61412345678"]
    body = fake_twilio.received[0].body
    assert body.startswith("Hi Chloe, we missed you at ")
    opt_out = body.rsplit("Opt out: ", 1)[1]
    assert opt_out.startswith("https://oncord.sunnyside.example/u/")
    response = connected.test_client().post(opt_out.removeprefix("https://oncord.sunnyside.example"))
    assert response.status_code == 200
    db_session.expire_all()
    assert contact_of(db_session, missed).sms_marketing_status == "unsubscribed"


def test_finished_sends_care_instructions_after_the_end(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink
) -> None:
    """After the end (plus the delay): arrived-only goes to the arrived patient; the other to all but DNA."""
    arrived, unmarked, absent = make_patient("Eve"), make_patient("Finn"), make_patient("Gus")
    pull()
    arrived_only = make_automation(
        db_session,
        clock,
        name="Care (arrived)",
        trigger="finished",
        send_sms=False,
        require_arrived=True,
        **{**FOLLOW_UP, "offset_minutes": 60},
    )
    anyone = make_automation(
        db_session,
        clock,
        name="Care (all)",
        trigger="finished",
        send_sms=False,
        **{**FOLLOW_UP, "offset_minutes": 60},
    )
    db_session.commit()
    starts = clock.now() + timedelta(hours=3)
    ids = {
        p.cliniko_id: sandbox.store.add_appointment(patient_id=p.cliniko_id, starts_at=iso(starts))
        for p in (arrived, unmarked, absent)
    }
    clock.set(starts + timedelta(minutes=10))
    sandbox.store.mark_arrived(ids[arrived.cliniko_id])
    sandbox.store.mark_did_not_arrive(ids[absent.cliniko_id])
    pull()
    clock.set(starts + timedelta(minutes=45 + 30))  # ended, but the 1-hour delay has not passed
    pull()
    dispatch()
    assert smtp_sink.received == []
    clock.set(starts + timedelta(minutes=45 + 61))
    pull()
    dispatch()
    dispatch()

    by_automation = {
        a.id: sorted(
            db_session.get(Contact, s.contact_id).first_name
            for s in sends(db_session, automation_id=a.id, state="sent")
        )
        for a in (arrived_only, anyone)
    }
    assert by_automation == {arrived_only.id: ["Eve"], anyone.id: ["Eve", "Finn"]}
    assert len(smtp_sink.received) == 3


@pytest.mark.parametrize("sandbox", [{"appointments": None}], indirect=True)
def test_first_sync_of_history_sends_nothing(
    connected, sandbox, pull, dispatch, db_session, clock, smtp_sink, fake_twilio
) -> None:
    """Years of cancelled, missed and finished appointments pulled at go-live fire nothing."""
    for trigger in ("cancelled", "did_not_arrive", "finished"):
        make_automation(db_session, clock, name=trigger, trigger=trigger, **FOLLOW_UP)
    make_automation(db_session, clock, name="reminder")
    db_session.commit()
    run = pull()
    assert run.counts["appointments"]["created"] > 50
    clock.advance(minutes=1)
    dispatch()
    rows = sends(db_session)
    assert all(r.trigger_key == "upcoming" and r.due_at >= connected_start(db_session) for r in rows)
    assert len(smtp_sink.received) == sum(1 for r in rows if r.channel == "email" and r.state == "sent")
    assert not [r for r in rows if r.trigger_key != "upcoming"]


def connected_start(session):
    """When the connection went live."""
    from oncord.models import ClinikoConnection

    return session.scalars(select(ClinikoConnection.enabled_at)).one()


@pytest.mark.parametrize("late_reminders", [True, False])
def test_booked_after_the_reminder_time(
    late_reminders, connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink
) -> None:
    """Booked within the reminder window but still ahead: reminded at once, or skipped when turned off."""
    patient = make_patient("Hana")
    pull()
    automation = make_automation(db_session, clock, send_sms=False, send_when_booked_late=late_reminders)
    db_session.commit()
    clock.advance(hours=1)
    sandbox.store.add_appointment(
        patient_id=patient.cliniko_id, starts_at=iso(clock.now() + timedelta(hours=5))
    )
    pull()
    dispatch()
    rows = sends(db_session, automation_id=automation.id)
    if late_reminders:
        assert [r.state for r in rows] == ["sent"] and len(smtp_sink.received) == 1
    else:
        assert [(r.state, r.reason) for r in rows] == [
            ("skipped", "booked_late")
        ] and smtp_sink.received == []


def test_filters_narrow_to_appointment_types_and_practitioners(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink
) -> None:
    """Only appointments of the chosen type with the chosen practitioner fire."""
    from oncord.models import AppointmentType, Practitioner

    patient = make_patient("Ivy")
    pull()
    store = sandbox.store
    type_ids = store.ids("appointment_types")
    practitioners = [p for p in store.ids("practitioners", ["active:=true"])]
    kind = db_session.scalars(select(AppointmentType).where(AppointmentType.cliniko_id == type_ids[0])).one()
    person = db_session.scalars(select(Practitioner).where(Practitioner.cliniko_id == practitioners[0])).one()
    automation = make_automation(db_session, clock, send_sms=False, trigger="cancelled", **FOLLOW_UP)
    automation.appointment_types = [kind]
    automation.practitioners = [person]
    db_session.commit()
    starts = iso(clock.now() + timedelta(days=2))
    matching = store.add_appointment(
        patient_id=patient.cliniko_id,
        starts_at=starts,
        appointment_type_id=type_ids[0],
        practitioner_id=practitioners[0],
    )
    other_type = store.add_appointment(
        patient_id=patient.cliniko_id,
        starts_at=starts,
        appointment_type_id=type_ids[1],
        practitioner_id=practitioners[0],
    )
    other_person = store.add_appointment(
        patient_id=patient.cliniko_id,
        starts_at=starts,
        appointment_type_id=type_ids[0],
        practitioner_id=practitioners[1],
    )
    clock.advance(minutes=30)
    for booking in (matching, other_type, other_person):
        store.cancel_appointment(booking)
    pull()
    dispatch()
    rows = db_session.scalars(select(AutomationSend)).all()
    assert len(rows) == 1 and rows[0].state == "sent" and len(smtp_sink.received) == 1


def test_first_appointment_welcomes_only_a_patient_with_no_earlier_appointment(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink
) -> None:
    """A new patient's first booking gets the welcome; a returning patient's next booking does not."""
    new, returning = make_patient("Nina"), make_patient("Rita")
    last_month = iso(clock.now() - timedelta(days=30))
    sandbox.store.add_appointment(patient_id=returning.cliniko_id, starts_at=last_month)
    pull()
    make_automation(db_session, clock, name="Welcome", trigger="first_appointment", send_sms=False,
                    **{**FOLLOW_UP, "email_subject": "Welcome {{ first_name }}"})
    db_session.commit()
    clock.advance(minutes=5)
    later = iso(clock.now() + timedelta(days=3))
    sandbox.store.add_appointment(patient_id=new.cliniko_id, starts_at=later)
    sandbox.store.add_appointment(patient_id=returning.cliniko_id, starts_at=later)
    pull()
    dispatch()
    dispatch()
    welcomed = [(e.rcpt_tos, e.message["Subject"]) for e in smtp_sink.received]
    assert welcomed == [((new.email,), "Welcome Nina")]
