"""Journeys end to end: a trigger enrols the contact, the steps run once each across dispatcher
passes (in-process RQ worker, real Redis, sandbox over HTTP, the test's clock), sends go through
the automation pipeline, and edits leave running enrolments on their version."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from oncord.automations.dispatcher import dispatch as run_dispatch
from oncord.automations.journeys.recipes import BY_KEY
from oncord.automations.journeys.runner import advance_all
from oncord.automations.journeys.steps import Step
from oncord.automations.journeys.versions import save_steps
from oncord.db import get_database
from oncord.models import AutomationSend, JourneyEnrolment, JourneyStepRun
from tests.automations.conftest import contact_of, default_zone, iso, local_time, log_in_staff
from tests.automations.helpers import book_now_button, make_automation, sends

FOLLOW_UP = {"is_service": False, "offset_minutes": 0, "send_email": False, "send_sms": False}
TWO_DAYS = 2 * 24 * 60


def dna_journey(db_session, clock):
    """The recipe's did-not-arrive journey: SMS now, wait 2 days, e-mail only if not booked since."""
    automation = make_automation(db_session, clock, name="Missed you", trigger="did_not_arrive", **FOLLOW_UP)
    save_steps(db_session, automation.id, list(BY_KEY["did-not-arrive"].steps), clock.now())
    db_session.commit()
    return automation


def miss(sandbox, clock, *patients):
    """Book each patient two hours from now, then move past the start and mark them did-not-arrive."""
    starts = clock.now() + timedelta(hours=2)
    bookings = [sandbox.store.add_appointment(patient_id=p.cliniko_id, starts_at=iso(starts))
                for p in patients]
    clock.set(starts + timedelta(minutes=20))
    for booking in bookings:
        sandbox.store.mark_did_not_arrive(booking)
    return bookings


def step_counts(db_session):
    """How many step runs each enrolment has."""
    db_session.expire_all()
    rows = db_session.execute(
        select(JourneyStepRun.enrolment_id, func.count()).group_by(JourneyStepRun.enrolment_id)
    ).all()
    return dict(rows)


def test_dna_follow_up_emails_only_the_patient_who_did_not_rebook(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink, fake_twilio
) -> None:
    """SMS to both at once; two days later the e-mail goes only to the one who did not book again."""
    chloe, dan = make_patient("Chloe"), make_patient("Dan", mobile="0413 222 333")
    pull()
    dna_journey(db_session, clock)
    miss(sandbox, clock, chloe, dan)
    pull()
    dispatch()
    dispatch()

    assert sorted(m.to for m in fake_twilio.received) == ["+61412345678", "+61413222333"]
    assert all(m.body.startswith("Hi ") and "we missed you" in m.body for m in fake_twilio.received)
    assert smtp_sink.received == []

    clock.advance(days=1)
    sandbox.store.add_appointment(patient_id=dan.cliniko_id, starts_at=iso(clock.now() + timedelta(days=3)))
    pull()
    dispatch()
    assert smtp_sink.received == []

    clock.advance(days=1, minutes=5)
    pull()
    dispatch()
    dispatch()

    assert [e.rcpt_tos for e in smtp_sink.received] == [(chloe.email,)]
    assert "We missed you, Chloe" in smtp_sink.received[0].message["Subject"]
    book_now_button(smtp_sink.received[0])
    assert len(fake_twilio.received) == 2
    db_session.expire_all()
    enrolments = {e.contact_id: e for e in db_session.scalars(select(JourneyEnrolment))}
    assert enrolments[contact_of(db_session, chloe).id].state == "finished"
    left = enrolments[contact_of(db_session, dan).id]
    assert (left.state, left.exit_reason) == ("exited", "booked")


def test_a_job_re_run_or_a_worker_dying_between_steps_never_repeats_a_step(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, fake_twilio, smtp_sink, monkeypatch
) -> None:
    """A dispatcher dying after the SMS step resumes at the wait; re-runs at one moment add nothing."""
    chloe = make_patient("Chloe")
    pull()
    dna_journey(db_session, clock)
    miss(sandbox, clock, chloe)
    pull()
    database = get_database(connected)

    import oncord.automations.journeys.runner as runner

    real = runner.wait_until

    def dies(*args, **kwargs):
        raise SystemExit("worker killed")

    # The worker dies while running the wait step, after the SMS step committed.
    monkeypatch.setattr(runner, "wait_until", dies)
    with pytest.raises(SystemExit):
        run_dispatch(database, clock, batch_size=50, enqueue=lambda ids: None)
    assert list(step_counts(db_session).values()) == [1]
    assert [(s.channel, s.step_index, s.state) for s in sends(db_session)] == [("sms", 0, "pending")]

    monkeypatch.setattr(runner, "wait_until", real)
    dispatch()
    dispatch()
    assert list(step_counts(db_session).values()) == [2]
    assert len(fake_twilio.received) == 1

    # A re-run of the same pass, and a second worker's pass, at the same moment add nothing.
    zone = lambda _appointment: "Australia/Melbourne"  # noqa: E731
    assert advance_all(database, clock.now(), zone).ran == 0
    clock.advance(days=2, minutes=1)
    assert advance_all(database, clock.now(), zone).ran == 2  # the condition, then the e-mail step
    assert advance_all(database, clock.now(), zone).ran == 0
    dispatch()
    assert len(smtp_sink.received) == 1
    assert len(fake_twilio.received) == 1
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(AutomationSend)) == 2


def test_a_step_another_worker_already_ran_is_not_run_again(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, fake_twilio
) -> None:
    """The (enrolment, step) key in the database, not the job, keeps a step to one run."""
    chloe = make_patient("Chloe")
    pull()
    automation = dna_journey(db_session, clock)
    miss(sandbox, clock, chloe)
    pull()
    # Plan only (enrol), as a dispatcher would before running steps.
    from oncord.automations.dispatcher import plan_all

    plan_all(get_database(connected), clock.now())
    enrolment = db_session.scalars(select(JourneyEnrolment)).one()
    assert enrolment.automation_id == automation.id
    # Another worker has just committed the first step's run (without its send: it is still in flight).
    db_session.add(JourneyStepRun(enrolment_id=enrolment.id, step_index=0, kind="send", outcome="",
                                  ran_at=clock.now()))
    db_session.commit()
    dispatch()
    assert fake_twilio.received == []
    assert sends(db_session) == []


def test_a_pass_with_more_due_enrolments_than_one_batch_runs_them_all_once(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, fake_twilio, monkeypatch
) -> None:
    """Enrolments are locked and advanced a batch at a time; one pass takes batch after batch."""
    import oncord.automations.journeys.runner as runner

    monkeypatch.setattr(runner, "BATCH_SIZE", 2)
    patients = [make_patient(name, mobile=f"0413 222 33{n}") for n, name in enumerate(["Ann", "Bo", "Cy"])]
    pull()
    dna_journey(db_session, clock)
    miss(sandbox, clock, *patients)
    pull()
    zone = lambda _appointment: "Australia/Melbourne"  # noqa: E731
    from oncord.automations.dispatcher import plan_all

    plan_all(get_database(connected), clock.now())
    # Each: the SMS step, then the wait (due at once, so in the same pass); then nothing is due.
    assert advance_all(get_database(connected), clock.now(), zone).ran == 6
    assert advance_all(get_database(connected), clock.now(), zone).ran == 0
    assert sorted(step_counts(db_session).values()) == [2, 2, 2]
    dispatch()
    assert len(fake_twilio.received) == 3


def test_editing_a_live_journey_leaves_running_enrolments_on_their_version(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink, staff
) -> None:
    """Contacts already waiting get version 1's e-mail; one who enters after the edit gets version 2's."""
    early, late = make_patient("Early"), make_patient("Late")
    pull()
    automation = make_automation(db_session, clock, name="Missed you", trigger="did_not_arrive", **FOLLOW_UP)
    save_steps(db_session, automation.id, [
        Step(kind="wait", minutes=TWO_DAYS),
        Step(kind="send", channel="email", subject="Version one for {{ first_name }}", body="Hi"),
    ], clock.now())
    db_session.commit()
    miss(sandbox, clock, early)
    pull()
    dispatch()

    page = staff.get(f"/automations/{automation.id}/journey")
    response = staff.post(f"/automations/{automation.id}/journey", {
        "step-1-minutes": str(TWO_DAYS), "step-1-at_time": "",
        "step-2-subject": "Version two for {{ first_name }}", "step-2-body": "Hi",
    })
    assert page.status_code == 200 and response.status_code == 204
    assert response.headers["HX-Redirect"].endswith(f"/automations/{automation.id}/journey")

    clock.advance(hours=1)
    miss(sandbox, clock, late)
    pull()
    dispatch()
    screen = staff.get(f"/automations/{automation.id}/journey").get_data(as_text=True)
    assert "Version 2." in screen and "finish on the version they started" in screen
    assert "version 1: 1" in screen

    clock.advance(days=2, hours=1)
    pull()
    dispatch()
    dispatch()
    subjects = {e.rcpt_tos[0]: e.message["Subject"] for e in smtp_sink.received}
    assert subjects == {early.email: "Version one for Early", late.email: "Version two for Late"}


@pytest.mark.parametrize("value", ["\x00", "²", "99999999999999999999999", "-1", "25:99", "1²:00",
                                   "x" * 100_000, "{{ first_name", "\u202e"])
def test_hostile_step_values_get_a_plain_422_and_save_nothing(db_session, clock, staff, value) -> None:
    """The journey form reads request.form itself (tests/web/test_hostile_forms.py lists it here):
    every step field with a hostile value is a message naming the step, never a 5xx."""
    automation = make_automation(db_session, clock, name="Missed you", trigger="did_not_arrive", **FOLLOW_UP)
    save_steps(db_session, automation.id, [
        Step(kind="wait", minutes=TWO_DAYS),
        Step(kind="send", channel="email", subject="Hello {{ first_name }}", body="Hi"),
    ], clock.now())
    db_session.commit()
    for name in ("step-1-minutes", "step-1-at_time", "step-2-subject", "step-2-body"):
        form = {"step-1-minutes": str(TWO_DAYS), "step-1-at_time": "", "step-2-subject": "Hello",
                "step-2-body": "Hi", name: value}
        response = staff.post(f"/automations/{automation.id}/journey", form)
        assert response.status_code in (204, 303, 422), (name, response.status_code)


def test_the_journey_screen_counts_contacts_at_each_step(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, owner
) -> None:
    """Two contacts in the wait, then one finished and one left because they booked again."""
    chloe, dan = make_patient("Chloe"), make_patient("Dan", mobile="0413 222 333")
    pull()
    automation = dna_journey(db_session, clock)
    miss(sandbox, clock, chloe, dan)
    pull()
    dispatch()

    def counts(browser):
        html = browser.get(f"/automations/{automation.id}/journey", htmx=True).get_data(as_text=True)
        return [int(n) for n in re.findall(r'<td class="num" data-count="(\d+)"', html)], html

    at_steps, html = counts(owner)
    assert at_steps == [0, 2, 0, 0]
    assert "Wait 2 days" in html and "otherwise the journey ends" in html

    sandbox.store.add_appointment(patient_id=dan.cliniko_id, starts_at=iso(clock.now() + timedelta(days=3)))
    clock.advance(days=2, minutes=1)
    pull()
    dispatch()
    # Two days on, the owner's session has ended: a staff member logs in now.
    at_steps, html = counts(log_in_staff(connected, db_session, clock))
    assert at_steps == [0, 0, 0, 0]
    assert 'Finished: <span data-count="1">1</span>' in html and "Left early (booked again): 1" in html


def two_emails_a_day_apart(db_session, clock):
    """A journey: an e-mail now, wait a day, another e-mail."""
    automation = make_automation(db_session, clock, name="Missed you", trigger="did_not_arrive", **FOLLOW_UP)
    save_steps(db_session, automation.id, [
        Step(kind="send", channel="email", subject="First for {{ first_name }}", body="Hi"),
        Step(kind="wait", minutes=24 * 60),
        Step(kind="send", channel="email", subject="Second for {{ first_name }}", body="Hi again"),
    ], clock.now())
    db_session.commit()
    return automation


def test_unsubscribing_or_being_archived_ends_the_journey_before_its_next_send(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink
) -> None:
    """One follows the first e-mail's unsubscribe link, one is archived in Cliniko: no second e-mail."""
    quits, archived, stays = make_patient("Quits"), make_patient("Archived"), make_patient("Stays")
    pull()
    two_emails_a_day_apart(db_session, clock)
    miss(sandbox, clock, quits, archived, stays)
    pull()
    dispatch()
    dispatch()
    assert sorted(e.rcpt_tos[0] for e in smtp_sink.received) == sorted(
        [quits.email, archived.email, stays.email])
    first = next(e for e in smtp_sink.received if e.rcpt_tos == (quits.email,))
    link = first.message["List-Unsubscribe"].strip().strip("<>")
    assert connected.test_client().post("/u/" + link.rsplit("/u/", 1)[1]).status_code == 200
    sandbox.store.archive_patient(archived.cliniko_id)

    clock.advance(days=1, minutes=1)
    pull()
    dispatch()
    dispatch()
    second = [e.rcpt_tos[0] for e in smtp_sink.received if e.message["Subject"].startswith("Second")]
    assert second == [stays.email]
    db_session.expire_all()
    reasons = {e.contact_id: e.exit_reason for e in db_session.scalars(select(JourneyEnrolment))}
    assert reasons == {contact_of(db_session, quits).id: "unsubscribed",
                       contact_of(db_session, archived).id: "contact_archived",
                       contact_of(db_session, stays).id: None}


def test_a_wait_until_a_time_of_day_uses_the_appointment_locations_zone(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, fake_twilio
) -> None:
    """"Wait until 10:00": nothing at 09:59 local time, the SMS at 10:00 in the location's zone."""
    patient = make_patient("Chloe")
    pull()
    automation = make_automation(db_session, clock, name="Morning", trigger="did_not_arrive", **FOLLOW_UP)
    save_steps(db_session, automation.id, [
        Step(kind="wait", minutes=60, at_time="10:00"),
        Step(kind="send", channel="sms", body="Good morning {{ first_name }}"),
    ], clock.now())
    db_session.commit()
    miss(sandbox, clock, patient)
    pull()
    dispatch()
    zone = default_zone(sandbox)
    ten = local_time(zone, clock.now() + timedelta(hours=1), 10)
    if ten < clock.now() + timedelta(hours=1):
        ten += timedelta(days=1)
    enrolment = db_session.scalars(select(JourneyEnrolment)).one()
    assert enrolment.next_run_at == ten

    clock.set(ten - timedelta(minutes=1))
    dispatch()
    assert fake_twilio.received == []
    clock.set(ten)
    pull()
    dispatch()
    dispatch()
    assert [m.body.splitlines()[0] for m in fake_twilio.received] == ["Good morning Chloe"]


def test_turning_a_journey_off_ends_the_enrolments_in_progress(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, smtp_sink, owner
) -> None:
    """Off while contacts wait: they leave at their next step and get nothing more, even when on again."""
    chloe = make_patient("Chloe")
    pull()
    automation = two_emails_a_day_apart(db_session, clock)
    miss(sandbox, clock, chloe)
    pull()
    dispatch()
    dispatch()
    assert len(smtp_sink.received) == 1
    assert owner.post(f"/automations/{automation.id}/toggle", {}).status_code == 200
    clock.advance(hours=12)
    dispatch()
    staff = log_in_staff(connected, db_session, clock)  # the owner's session has ended by now
    assert staff.post(f"/automations/{automation.id}/toggle", {"enabled": "y"}).status_code == 200
    clock.advance(days=1)
    dispatch()
    dispatch()
    assert len(smtp_sink.received) == 1
    db_session.expire_all()
    enrolment = db_session.scalars(select(JourneyEnrolment)).one()
    assert (enrolment.state, enrolment.exit_reason) == ("exited", "automation_off")


def test_a_future_booking_condition_is_answered_for_each_contact_of_a_batch(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, fake_twilio
) -> None:
    """Of two patients advanced together, only the one with nothing booked ahead gets the SMS."""
    booked, unbooked = make_patient("Ann", mobile="0413 222 330"), make_patient("Bo", mobile="0413 222 331")
    pull()
    automation = make_automation(db_session, clock, name="Rebook", trigger="did_not_arrive", **FOLLOW_UP)
    save_steps(db_session, automation.id, [
        Step(kind="condition", test="future_booking", negate=True),
        Step(kind="send", channel="sms", body="Time to rebook, {{ first_name }}"),
    ], clock.now())
    db_session.commit()
    # Booked ahead before missing this one: not "booked since entering", which would end it anyway.
    ahead = iso(clock.now() + timedelta(days=3))
    sandbox.store.add_appointment(patient_id=booked.cliniko_id, starts_at=ahead)
    miss(sandbox, clock, booked, unbooked)
    pull()
    dispatch()
    dispatch()
    assert [m.body.splitlines()[0] for m in fake_twilio.received] == ["Time to rebook, Bo"]
    db_session.expire_all()
    reasons = {e.contact_id: e.exit_reason for e in db_session.scalars(select(JourneyEnrolment))}
    assert reasons == {contact_of(db_session, booked).id: "condition_not_met",
                       contact_of(db_session, unbooked).id: None}


def test_a_pass_stopped_at_its_limit_has_the_next_one_run_at_once(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, monkeypatch
) -> None:
    """A backlog beyond one pass's limit drains in the same dispatch, not one pass a minute."""
    import oncord.automations.journeys.runner as runner

    dna_journey(db_session, clock)
    patients = [make_patient(name) for name in ("Ana", "Ben", "Cy", "Di", "Ed")]
    pull()
    miss(sandbox, clock, *patients)
    pull()
    monkeypatch.setattr(runner, "PASS_LIMIT", 2)
    dispatch()
    # Five enrolments, two per pass: three passes ran within the one dispatch, each step once.
    assert sorted(step_counts(db_session).values()) == [2, 2, 2, 2, 2]  # the SMS, then the wait
    zone = lambda _appointment: "Australia/Melbourne"  # noqa: E731
    assert advance_all(get_database(connected), clock.now(), zone) == runner.Advanced(0, more_due=False)
