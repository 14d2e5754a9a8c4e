"""The journey builder over HTTP: add, remove and move steps (the draft is not saved until Save),
saving makes a new version while contacts already in the journey finish on theirs, and bad steps
come back with messages naming the step."""

from __future__ import annotations

from sqlalchemy import select

from oncord.automations.journeys.versions import steps_of
from oncord.models import AppointmentType, JourneyEnrolment, JourneyStepRun, JourneyVersion
from tests.automations.builder_forms import form_fields
from tests.automations.test_journeys import TWO_DAYS, dna_journey, miss


def press(browser, url, fields, action, **changes):
    """Submit the builder form as the screen shows it, pressing the button with this action."""
    response = browser.post(url, {**fields, **changes, "action": action})
    return response, response.get_data(as_text=True)


def versions(db_session):
    db_session.expire_all()
    return {v.number: steps_of(v) for v in db_session.scalars(select(JourneyVersion))}


def test_building_steps_then_saving_makes_a_version_and_running_enrolments_keep_theirs(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, owner, smtp_sink
) -> None:
    """Add a wait, move it up, remove the condition, save: version 2 is exactly that; the contact
    already waiting still runs version 1's condition and e-mail."""
    chloe = make_patient("Chloe")
    pull()
    automation = dna_journey(db_session, clock)
    miss(sandbox, clock, chloe)
    pull()
    dispatch()
    url = f"/automations/{automation.id}/journey"
    html = owner.get(url).get_data(as_text=True)

    response, html = press(owner, url, form_fields(html, "journey-builder"), "add", **{"new-kind": "wait"})
    assert response.status_code == 200 and "Not saved yet" in html
    assert 'name="step-5-kind" value="wait"' in html
    assert list(versions(db_session)) == [1]
    fields = form_fields(html, "journey-builder")
    fields["step-5-minutes"] = "60"
    response, html = press(owner, url, fields, "up-5")
    response, html = press(owner, url, form_fields(html, "journey-builder"), "remove-3")
    moved = html.index('name="step-3-minutes" inputmode="numeric" value="60"')
    assert moved < html.index('name="step-4-subject"')
    response, _ = press(owner, url, form_fields(html, "journey-builder"), "save")
    assert response.status_code == 204

    saved = versions(db_session)
    assert [(s.kind, s.channel, s.minutes) for s in saved[2]] == [
        ("send", "sms", 0), ("wait", "", TWO_DAYS), ("wait", "", 60), ("send", "email", 0)]
    assert saved[2][3].subject == saved[1][3].subject
    screen = owner.get(url).get_data(as_text=True)
    assert "Version 2." in screen and "version 1: 1" in screen

    clock.advance(days=2, minutes=5)
    pull()
    dispatch()
    dispatch()
    enrolment = db_session.scalars(select(JourneyEnrolment)).one()
    version_1 = db_session.scalars(select(JourneyVersion).where(JourneyVersion.number == 1)).one()
    assert enrolment.version_id == version_1.id and enrolment.state == "finished"
    kinds = [r.kind for r in db_session.scalars(select(JourneyStepRun).order_by(JourneyStepRun.step_index))]
    assert kinds == ["send", "wait", "condition", "send"]
    assert [e.rcpt_tos for e in smtp_sink.received] == [(chloe.email,)]


def test_a_builder_action_without_javascript_answers_the_whole_page_and_saves_nothing(
    db_session, clock, owner
) -> None:
    """A plain form post (no htmx) of Add gets the full page with the new step, still version 1."""
    automation = dna_journey(db_session, clock)
    url = f"/automations/{automation.id}/journey"
    fields = form_fields(owner.get(url).get_data(as_text=True), "journey-builder")
    response = owner.post(url, {**fields, "action": "add", "new-kind": "stop"}, htmx=False)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    assert 'name="step-5-kind" value="stop"' in html and "Not saved yet" in html
    assert list(versions(db_session)) == [1]


def test_bad_steps_come_back_with_messages_naming_each_step(db_session, clock, owner) -> None:
    """An empty e-mail, an empty wait, a marketing condition without its status, a stop before other
    steps and an unknown appointment type: 422, each message with its step number, nothing saved."""
    automation = dna_journey(db_session, clock)
    db_session.add(AppointmentType(cliniko_id="77", name="Initial consultation"))
    db_session.commit()
    url = f"/automations/{automation.id}/journey"
    html = owner.get(url).get_data(as_text=True)
    for kind in ("email", "wait", "condition", "stop", "condition"):
        _, html = press(owner, url, form_fields(html, "journey-builder"), "add", **{"new-kind": kind})
    fields = form_fields(html, "journey-builder")
    fields.update({"step-6-minutes": "0", "step-6-at_time": "", "step-7-test": "marketing_status",
                   "step-7-channel": "email", "step-9-test": "appointment_type_seen",
                   "step-9-appointment_type_id": "999999"})
    response, html = press(owner, url, fields, "save")
    assert response.status_code == 422
    for message in ("Step 5: write the e-mail&#39;s subject.", "Step 5: write the message.",
                    "Step 6: a wait needs a number of minutes, a time of day, or both.",
                    "Step 7: choose the marketing status", "Step 8: nothing after a stop ever runs",
                    "Step 9: choose the appointment type."):
        assert message in html, message
    assert list(versions(db_session)) == [1]
    # The draft survives the refusal: the steps are still there to fix.
    assert 'name="step-9-kind" value="condition"' in html


def test_a_condition_on_an_appointment_type_saves_with_that_type(db_session, clock, owner) -> None:
    """The appointment types the builder lists are the ones a condition may name."""
    automation = dna_journey(db_session, clock)
    kind = AppointmentType(cliniko_id="77", name="Initial consultation")
    db_session.add(kind)
    db_session.commit()
    url = f"/automations/{automation.id}/journey"
    _, html = press(owner, url, form_fields(owner.get(url).get_data(as_text=True), "journey-builder"), "add",
                    **{"new-kind": "condition"})
    assert ">Initial consultation</option>" in html
    fields = form_fields(html, "journey-builder")
    fields.update({"step-5-test": "appointment_type_seen", "step-5-appointment_type_id": str(kind.id),
                   "step-5-negate": "1"})
    response, _ = press(owner, url, fields, "save")
    assert response.status_code == 204
    last = versions(db_session)[2][4]
    assert (last.test, last.appointment_type_id, last.negate) == ("appointment_type_seen", kind.id, True)


def test_saving_the_draft_unchanged_makes_no_new_version(db_session, clock, owner) -> None:
    """Save with nothing changed keeps version 1 (the screen's fields round-trip the saved steps)."""
    automation = dna_journey(db_session, clock)
    url = f"/automations/{automation.id}/journey"
    fields = form_fields(owner.get(url).get_data(as_text=True), "journey-builder")
    response, _ = press(owner, url, fields, "save")
    assert response.status_code == 204
    assert list(versions(db_session)) == [1]


HOSTILE = ["\x00", "²", "99999999999999999999999", "-1", "up-0", "remove-999", "x" * 100_000, "\u202e", ""]
BUILDER_FIELDS = ("steps", "step-1-kind", "step-3-test", "step-3-appointment_type_id", "step-3-negate",
                  "step-3-channel", "step-3-status", "action", "new-kind")


def test_hostile_builder_values_never_give_a_5xx_or_a_bad_version(db_session, clock, owner) -> None:
    """Every field the builder reads, with hostile values: a page, a redirect or a 422, never a 5xx,
    and anything saved is a well-formed journey (tests/web/test_hostile_forms.py lists this route)."""
    automation = dna_journey(db_session, clock)
    url = f"/automations/{automation.id}/journey"
    fields = form_fields(owner.get(url).get_data(as_text=True), "journey-builder")
    for name in BUILDER_FIELDS:
        for value in HOSTILE:
            response = owner.post(url, {**fields, "action": "save", name: value})
            assert response.status_code in (200, 204, 422), (name, value, response.status_code)
    for version in versions(db_session).values():
        assert version and all(step.kind in ("send", "wait", "condition", "stop") for step in version)
