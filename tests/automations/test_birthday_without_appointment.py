"""A birthday greets a contact who never had an appointment: the sandbox over HTTP, the pull, the
daily evaluation and the dispatcher as RQ jobs on real Redis, the test's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from oncord.automations.journeys.recipes import BY_KEY
from oncord.automations.journeys.steps import Step, StepKind
from oncord.automations.journeys.steps import Test as ConditionTest
from oncord.automations.journeys.versions import save_steps
from oncord.bookings.settings import update_clinic_settings
from oncord.models import AutomationSend, JourneyEnrolment
from tests.automations.conftest import contact_of, iso, local_time, log_in_staff
from tests.automations.helpers import make_automation
from tests.automations.test_state_triggers import MARKETING, clinic_zone, daily  # noqa: F401 (fixture)


def test_a_contact_with_no_appointment_is_greeted_once_with_the_clinic_as_business(
    connected, sandbox, make_patient, pull, daily, dispatch, db_session, clock, request, smtp_sink  # noqa: F811
) -> None:
    """No appointment at all: one greeting on the day, {{ business }} the clinic's name, and the
    send log says "No appointment"; evaluating the day again sends nothing more."""
    zone = clinic_zone(connected, db_session)
    clock.set(local_time(zone, datetime(2027, 5, 10, 12, tzinfo=UTC), 12))
    newcomer = make_patient("Nora")
    sandbox.store.edit_patient(newcomer.cliniko_id, date_of_birth="1991-05-11")
    pull()
    update_clinic_settings(db_session, clinic_name="Sunnyside Physio", bookings_url=None, clock=clock)
    automation = make_automation(db_session, clock, name="Birthday", trigger="birthday", enabled=False,
                                 send_email=False, send_sms=False, **MARKETING)
    save_steps(db_session, automation.id, list(BY_KEY["birthday"].steps), clock.now())
    db_session.commit()
    owner = request.getfixturevalue("owner")
    owner.post(f"/automations/{automation.id}/toggle", {"enabled": "y"})

    clock.set(local_time(zone, datetime(2027, 5, 11, 12, tzinfo=UTC), 9, 0))
    daily()
    dispatch()
    dispatch()
    assert [m.rcpt_tos for m in smtp_sink.received] == [(newcomer.email,)]
    body = smtp_sink.received[0].message.get_body(("plain",)).get_content()
    assert "Everyone at Sunnyside Physio wishes you a happy birthday!" in body

    clock.advance(hours=3)
    daily()
    dispatch()
    assert len(smtp_sink.received) == 1
    db_session.expire_all()
    enrolment = db_session.scalars(select(JourneyEnrolment)).one()
    assert (enrolment.appointment_id, enrolment.contact_id) == (None, contact_of(db_session, newcomer).id)
    send = db_session.scalars(select(AutomationSend)).one()
    assert (send.appointment_id, send.state) == (None, "sent")
    staff = log_in_staff(connected, db_session, clock)  # the owner's session is a day old
    log = staff.get(f"/automations/{automation.id}/log").get_data(as_text=True)
    assert "No appointment" in log


def test_booked_since_entering_sees_a_booking_of_a_contact_who_entered_with_no_appointment(
    connected, sandbox, make_patient, pull, daily, dispatch, db_session, clock, request, smtp_sink  # noqa: F811
) -> None:
    """Entered on a birthday with no appointment, then booked: "has booked since entering" is true
    (the booking is not the enrolment's appointment: there is none), so the step after it sends."""
    zone = clinic_zone(connected, db_session)
    clock.set(local_time(zone, datetime(2027, 5, 10, 12, tzinfo=UTC), 12))
    newcomer = make_patient("Nora")
    sandbox.store.edit_patient(newcomer.cliniko_id, date_of_birth="1991-05-11")
    pull()
    automation = make_automation(db_session, clock, name="Birthday", trigger="birthday", enabled=False,
                                 send_email=False, send_sms=False, **MARKETING)
    steps = [Step(kind=StepKind.WAIT, minutes=24 * 60),
             Step(kind=StepKind.CONDITION, test=ConditionTest.BOOKED_SINCE_ENTERING),
             Step(kind=StepKind.SEND, channel="email", subject="Thanks for booking", body="See you soon.")]
    save_steps(db_session, automation.id, steps, clock.now())
    db_session.commit()
    request.getfixturevalue("owner").post(f"/automations/{automation.id}/toggle", {"enabled": "y"})

    clock.set(local_time(zone, datetime(2027, 5, 11, 12, tzinfo=UTC), 9, 0))
    daily()
    dispatch()
    clock.advance(hours=2)
    booked_for = iso(clock.now() + timedelta(days=3))
    sandbox.store.add_appointment(patient_id=newcomer.cliniko_id, starts_at=booked_for)
    pull()
    clock.advance(days=1)
    dispatch()
    dispatch()
    assert [m.message["Subject"] for m in smtp_sink.received] == ["Thanks for booking"]
