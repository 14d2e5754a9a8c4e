"""The booked, recall and birthday triggers and safe enablement, end to end: the sandbox over HTTP,
pulls, the daily evaluation and the dispatcher as RQ jobs on real Redis, the test's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from oncord import context
from oncord.automations.journeys.recipes import BY_KEY
from oncord.automations.journeys.versions import save_steps
from oncord.automations.triggers.states import add_months
from oncord.jobs.enqueue import DAILY_TRIGGERS_JOB
from oncord.models import Automation, JourneyEnrolment
from oncord.queue import get_queue
from oncord.timezones import clinic_time_zone
from tests.automations.conftest import appointment_of, contact_of, iso, local_time
from tests.automations.helpers import make_automation, sends

MARKETING = {"is_service": False, "offset_minutes": 0}


@pytest.fixture
def daily(connected, run_jobs):
    """Run the morning evaluation of recall and birthdays as its RQ job."""

    def _daily() -> None:
        get_queue(connected).enqueue(DAILY_TRIGGERS_JOB)
        run_jobs()

    return _daily


def enrolments(db_session) -> list[JourneyEnrolment]:
    """Every enrolment, oldest first."""
    db_session.expire_all()
    return list(db_session.scalars(select(JourneyEnrolment).order_by(JourneyEnrolment.id)))


def visit(sandbox, clock, patient, when: datetime) -> str:
    """An appointment at `when` (past or future), booked now."""
    return sandbox.store.add_appointment(patient_id=patient.cliniko_id, starts_at=iso(when))


def clinic_zone(app, db_session) -> str:
    """The clinic's main zone, as the daily job reads it."""
    return clinic_time_zone(db_session, context.settings(app))


def test_booked_fires_once_per_new_appointment_and_flags_online_ones(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, fake_twilio, staff
) -> None:
    """Bookings before the switch-on are history; each later one gets one SMS; online-only sees one."""
    ann, ben = make_patient("Ann"), make_patient("Ben", mobile="0413 222 333")
    pull()
    visit(sandbox, clock, ann, clock.now() + timedelta(days=3))
    pull()
    clock.advance(minutes=5)
    common = {**MARKETING, "send_email": False, "send_sms": True}
    make_automation(db_session, clock, name="Booked", trigger="booked",
                    sms_body="Hi {{ first_name }}, booked.", **common)
    make_automation(db_session, clock, name="Online", trigger="booked", online_only=True,
                    sms_body="Hi {{ first_name }}, thanks for booking online.", **common)
    db_session.commit()
    clock.advance(minutes=1)
    by_phone = visit(sandbox, clock, ann, clock.now() + timedelta(days=4))
    online = sandbox.store.add_appointment(patient_id=ben.cliniko_id, online=True,
                                           starts_at=iso(clock.now() + timedelta(days=5)))
    pull()
    dispatch()
    dispatch()

    texts = sorted((m.to, m.body.split("\n")[0]) for m in fake_twilio.received)
    assert texts == [
        ("+61412345678", "Hi Ann, booked."),
        ("+61413222333", "Hi Ben, booked."),
        ("+61413222333", "Hi Ben, thanks for booking online."),
    ]
    assert appointment_of(db_session, online).booked_online is True
    assert appointment_of(db_session, by_phone).booked_online is False
    feed = staff.get(f"/contacts/{contact_of(db_session, ben).id}").get_data(as_text=True)
    assert "Booked online:" in feed
    clock.advance(minutes=5)
    pull()
    dispatch()
    assert len(fake_twilio.received) == 3


def _recall_on(owner, db_session, choice: str, months: int = 6) -> Automation:
    """Turn the recall recipe on through its confirmation step with this choice."""
    response = owner.post("/automations/recipes/recall")
    automation = db_session.scalars(select(Automation).order_by(Automation.id.desc())).first()
    assert response.headers["HX-Redirect"].endswith(f"/automations/{automation.id}/switch-on")
    answer = owner.post(f"/automations/{automation.id}/switch-on",
                        {"backfill": choice, "recall_months": str(months)})
    assert answer.status_code in (200, 204), answer.get_data(as_text=True)
    db_session.expire_all()
    return automation


def test_enabling_a_recall_recipe_asks_first_and_only_new_ones_starts_nobody_existing(
    connected, sandbox, make_patient, pull, daily, dispatch, db_session, clock, owner, smtp_sink
) -> None:
    """Two lapsed patients: the page names 2 and nothing starts; "only new ones" leaves them out."""
    ann, ben, cat = make_patient("Ann"), make_patient("Ben"), make_patient("Cat")
    pull()
    visit(sandbox, clock, ann, add_months(clock.now(), -7))
    visit(sandbox, clock, ben, add_months(clock.now(), -9))
    visit(sandbox, clock, cat, add_months(clock.now(), -2))
    pull()

    response = owner.post("/automations/recipes/recall")
    automation = db_session.scalars(select(Automation)).one()
    page = owner.get(response.headers["HX-Redirect"]).get_data(as_text=True)
    assert "<span data-match-count>2</span> patients match now" in page
    assert "Start them now" in page and "Only new ones" in page
    db_session.refresh(automation)
    assert automation.enabled is False and enrolments(db_session) == []
    # The switch on the list asks too, instead of turning it on.
    toggled = owner.post(f"/automations/{automation.id}/toggle", {"enabled": "y"})
    assert toggled.headers["HX-Redirect"].endswith(f"/automations/{automation.id}/switch-on")
    db_session.refresh(automation)
    assert automation.enabled is False
    # Without a choice nothing happens.
    assert owner.post(f"/automations/{automation.id}/switch-on", {"recall_months": "6"}).status_code == 422
    db_session.refresh(automation)
    assert automation.enabled is False

    owner.post(f"/automations/{automation.id}/switch-on", {"backfill": "new", "recall_months": "6"})
    db_session.refresh(automation)
    assert (automation.enabled, automation.backfill, automation.backfill_count) == (True, "new", 2)
    daily()
    dispatch()
    assert enrolments(db_session) == [] and smtp_sink.received == []

    # Cat lapses after the switch-on: she is new, so she starts.
    clock.advance(days=4 * 31)
    daily()
    dispatch()
    assert [e.contact_id for e in enrolments(db_session)] == [contact_of(db_session, cat).id]
    assert [m.rcpt_tos for m in smtp_sink.received] == [(cat.email,)]


def test_start_them_now_enrols_the_n_shown(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, owner, smtp_sink
) -> None:
    """"Start them now" enters exactly the patients the page counted, and the first e-mail goes."""
    ann, ben, cat, dan = (make_patient(n) for n in ("Ann", "Ben", "Cat", "Dan"))
    pull()
    visit(sandbox, clock, ann, add_months(clock.now(), -7))
    visit(sandbox, clock, ben, add_months(clock.now(), -13))
    visit(sandbox, clock, cat, add_months(clock.now(), -2))
    visit(sandbox, clock, dan, add_months(clock.now(), -8))
    visit(sandbox, clock, dan, clock.now() + timedelta(days=10))  # lapsed, but booked again
    pull()

    response = owner.post("/automations/recipes/recall")
    page = owner.get(response.headers["HX-Redirect"]).get_data(as_text=True)
    assert "<span data-match-count>2</span> patients match now" in page
    automation = _switch(owner, db_session, "all", months=6)
    assert (automation.enabled, automation.backfill, automation.backfill_count) == (True, "all", 2)
    entered = {e.contact_id for e in enrolments(db_session)}
    assert entered == {contact_of(db_session, ann).id, contact_of(db_session, ben).id}
    dispatch()
    dispatch()
    assert sorted(m.rcpt_tos for m in smtp_sink.received) == sorted([(ann.email,), (ben.email,)])


def _switch(owner, db_session, choice: str, months: int) -> Automation:
    automation = db_session.scalars(select(Automation).order_by(Automation.id.desc())).first()
    owner.post(f"/automations/{automation.id}/switch-on", {"backfill": choice, "recall_months": str(months)})
    db_session.expire_all()
    db_session.refresh(automation)
    return automation


def test_a_recall_journey_exits_when_the_patient_books(
    connected, sandbox, make_patient, pull, daily, dispatch, db_session, clock, owner, smtp_sink, fake_twilio
) -> None:
    """First touch to both; whoever books before the second touch leaves the journey, the other gets it."""
    ann, ben = make_patient("Ann"), make_patient("Ben", mobile="0413 222 333")
    pull()
    visit(sandbox, clock, ann, add_months(clock.now(), -7))
    visit(sandbox, clock, ben, add_months(clock.now(), -7))
    pull()
    _recall_on(owner, db_session, "all")
    dispatch()
    dispatch()
    assert len(smtp_sink.received) == 2

    clock.advance(days=5)
    visit(sandbox, clock, ann, clock.now() + timedelta(days=7))
    pull()
    daily()
    dispatch()
    clock.advance(days=10)
    pull()
    dispatch()
    dispatch()

    assert [m.to for m in fake_twilio.received] == ["+61413222333"]
    states = {e.contact_id: (e.state, e.exit_reason) for e in enrolments(db_session)}
    assert states[contact_of(db_session, ann).id] == ("exited", "booked")
    assert states[contact_of(db_session, ben).id] == ("finished", None)


def test_recall_re_evaluated_daily_enrols_once_per_lapse_and_again_after_a_later_visit(
    connected, sandbox, make_patient, pull, daily, dispatch, db_session, clock, owner, smtp_sink
) -> None:
    """Daily runs find the same lapse and enter it once; a visit, then a new lapse, enters again."""
    ann = make_patient("Ann")
    pull()
    visit(sandbox, clock, ann, add_months(clock.now(), -7))
    pull()
    automation = _recall_on(owner, db_session, "all")
    for _ in range(3):
        clock.advance(days=1)
        daily()
        daily()
        dispatch()
    assert len(enrolments(db_session)) == 1
    assert len(smtp_sink.received) == 1

    later = visit(sandbox, clock, ann, clock.now() + timedelta(days=1))
    pull()
    clock.advance(days=2)
    sandbox.store.mark_arrived(later)
    pull()
    daily()
    assert len(enrolments(db_session)) == 1
    clock.advance(days=6 * 31)
    pull()
    daily()
    daily()
    keys = [e.once_key for e in enrolments(db_session)]
    assert keys == [f"recall:{e.appointment_id}" for e in enrolments(db_session)] and len(set(keys)) == 2
    assert enrolments(db_session)[1].appointment_id == appointment_of(db_session, later).id

    # The key is unique in the database, whoever inserts it.
    first = enrolments(db_session)[0]
    db_session.add(JourneyEnrolment(
        automation_id=automation.id, version_id=first.version_id, appointment_id=first.appointment_id,
        contact_id=first.contact_id, once_key=first.once_key, state="active", step_index=0,
        next_run_at=clock.now(), entered_at=clock.now(), created_at=clock.now(), updated_at=clock.now(),
    ))
    with pytest.raises(IntegrityError):
        db_session.flush()
    db_session.rollback()


def test_birthday_greets_subscribed_contacts_once_on_the_day_in_the_clinic_zone(
    connected, sandbox, make_patient, pull, daily, dispatch, db_session, clock, request, smtp_sink
) -> None:
    """Born 28 Feb and 29 Feb: both greeted on 28 Feb 2027 after 9 am clinic time, once; Pending is not."""
    zone = clinic_zone(connected, db_session)
    clock.set(local_time(zone, datetime(2027, 2, 26, 12, tzinfo=UTC), 12))
    leap, plain, pending, tomorrow = (make_patient(n) for n in ("Leap", "Plain", "Pending", "Tomorrow"))
    for patient, born in ((leap, "2000-02-29"), (plain, "1990-02-28"), (pending, "1985-02-28"),
                          (tomorrow, "1970-03-01")):
        sandbox.store.edit_patient(patient.cliniko_id, date_of_birth=born)
        visit(sandbox, clock, patient, clock.now() - timedelta(days=30))
    sandbox.store.edit_patient(pending.cliniko_id, accepted_email_marketing=False,
                               accepted_sms_marketing=False)
    pull()
    automation = make_automation(db_session, clock, name="Birthday", trigger="birthday", enabled=False,
                                 send_email=False, send_sms=False, **MARKETING)
    save_steps(db_session, automation.id, list(BY_KEY["birthday"].steps), clock.now())
    db_session.commit()
    # Logged in on the test's new date (a session from November would have expired).
    owner = request.getfixturevalue("owner")
    owner.post(f"/automations/{automation.id}/toggle", {"enabled": "y"})
    db_session.refresh(automation)
    assert automation.enabled is True  # nobody matched on the 26th: nothing to ask

    clock.set(local_time(zone, datetime(2027, 2, 27, 12, tzinfo=UTC), 9, 0))
    daily()
    dispatch()
    assert smtp_sink.received == []
    # The morning of the 28th in the clinic's zone (still the 27th in UTC).
    clock.set(local_time(zone, datetime(2027, 2, 28, 12, tzinfo=UTC), 9, 0))
    assert clock.now().day == 27
    daily()
    dispatch()
    dispatch()
    assert sorted(m.rcpt_tos for m in smtp_sink.received) == sorted([(leap.email,), (plain.email,)])
    assert all("Happy birthday" in m.message["Subject"] for m in smtp_sink.received)
    clock.advance(hours=3)
    daily()
    dispatch()
    assert len(smtp_sink.received) == 2
    assert {e.once_key.rsplit(":", 1)[1] for e in enrolments(db_session)} == {"2027"}
    assert sends(db_session, automation_id=automation.id)[0].contact_id in {
        contact_of(db_session, leap).id, contact_of(db_session, plain).id}


def test_the_daily_evaluation_is_scheduled_once_per_local_morning(connected, db_session, clock) -> None:
    """Two workers starting schedule one job, for the next 9 am in the clinic's zone, named by its day."""
    from oncord.jobs.automation_jobs import ensure_daily_schedule

    zone = clinic_zone(connected, db_session)
    clock.set(local_time(zone, clock.now(), 10))
    first, second = ensure_daily_schedule(connected), ensure_daily_schedule(connected)
    tomorrow = clock.now() + timedelta(days=1)
    day = local_time(zone, tomorrow, 9).astimezone(ZoneInfo(zone))
    assert first == second == f"automations-daily-{day:%Y%m%d}"
    assert get_queue(connected).scheduled_job_registry.get_job_ids() == [first]
