"""Recipes: listed with their message class and timing, turned on with one click (no back-fill),
then edited; a bad edit fails with a reason naming its step."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from oncord.automations.journeys.recipes import RECIPES
from oncord.models import Automation, JourneyEnrolment, JourneyVersion
from tests.automations.conftest import iso
from tests.automations.helpers import book_now_button, sends
from tests.factories import make_contact


def test_the_recipes_page_lists_each_recipe_with_its_class_and_the_coming_ones(staff) -> None:
    """Available recipes have a Turn on button; recipes whose trigger does not exist yet say Coming."""
    html = staff.get("/automations/recipes").get_data(as_text=True)
    for name in ("24-hour appointment reminder", "Did-not-arrive follow-up", "Cancellation rebook",
                 "Recall at 3, 6 or 12 months", "New-patient welcome", "Birthday greeting"):
        assert name in html
    reminder = html.split('id="recipe-reminder-24h"')[1].split("</tr>")[0]
    assert "Service message" in reminder and "24 hours before" in reminder and "Turn on" in reminder
    birthday = html.split('id="recipe-birthday"')[1].split("</tr>")[0]
    assert "Marketing" in birthday and "Turn on" in birthday
    for recipe in RECIPES:
        row = html.split(f'id="recipe-{recipe.key}"')[1].split("</tr>")[0]
        assert ("Coming" in row) != recipe.available and ("Turn on" in row) == recipe.available
        if not recipe.available:
            assert staff.post(f"/automations/recipes/{recipe.key}").status_code == 404


def test_the_reminder_recipe_becomes_a_service_sms_automation_opened_in_the_editor(
    staff, db_session
) -> None:
    """One click: an SMS reminder 24 hours before, a service message, on, ready to edit."""
    response = staff.post("/automations/recipes/reminder-24h")
    automation = db_session.scalars(select(Automation)).one()
    assert response.headers["HX-Redirect"].endswith(f"/automations/{automation.id}")
    assert (automation.enabled, automation.trigger, automation.offset_minutes, automation.is_service) == (
        True, "upcoming", 24 * 60, True)
    assert automation.send_sms and not automation.send_email
    assert db_session.scalars(select(JourneyVersion)).all() == []


def test_a_recipe_without_a_csrf_token_is_refused(staff, db_session) -> None:
    """Turning a recipe on is a form post like any other."""
    response = staff.client.post("/automations/recipes/reminder-24h")
    assert response.status_code == 400
    assert db_session.scalars(select(Automation)).all() == []


def test_the_dna_recipe_turned_on_enrols_only_what_happens_afterwards(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, owner, fake_twilio
) -> None:
    """A did-not-arrive before the click is history; one after it gets the journey's first SMS."""
    before, after = make_patient("Before"), make_patient("After", mobile="0413 222 333")
    pull()
    starts = clock.now() + timedelta(hours=2)
    old = sandbox.store.add_appointment(patient_id=before.cliniko_id, starts_at=iso(starts))
    new = sandbox.store.add_appointment(patient_id=after.cliniko_id, starts_at=iso(starts))
    clock.set(starts + timedelta(minutes=20))
    sandbox.store.mark_did_not_arrive(old)
    pull()
    clock.advance(minutes=5)

    response = owner.post("/automations/recipes/did-not-arrive")
    automation = db_session.scalars(select(Automation)).one()
    assert response.headers["HX-Redirect"].endswith(f"/automations/{automation.id}/journey")
    page = owner.get(f"/automations/{automation.id}/journey").get_data(as_text=True)
    assert "Send an SMS" in page and "Wait 2 days" in page and "Send an e-mail" in page

    clock.advance(minutes=5)
    sandbox.store.mark_did_not_arrive(new)
    pull()
    dispatch()
    assert [m.to for m in fake_twilio.received] == ["+61413222333"]
    assert len(db_session.scalars(select(JourneyEnrolment)).all()) == 1


def test_the_cancellation_rebook_recipe_emails_a_book_now_button(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, owner, smtp_sink
) -> None:
    """An hour after a cancellation the recipe's e-mail goes with a Book a new time button."""
    ann = make_patient("Ann")
    pull()
    owner.post("/automations/recipes/cancellation-rebook")
    clock.advance(minutes=5)
    booking = sandbox.store.add_appointment(patient_id=ann.cliniko_id,
                                            starts_at=iso(clock.now() + timedelta(days=2)))
    pull()
    clock.advance(minutes=5)
    sandbox.store.cancel_appointment(booking)
    pull()
    clock.advance(minutes=61)
    dispatch()

    (message,) = smtp_sink.received
    assert message.rcpt_tos == (ann.email,)
    book_now_button(message)


def test_a_bad_step_edit_names_the_step_and_saves_nothing(
    connected, db_session, clock, owner
) -> None:
    """A wait that is not a number and an unknown merge field: 422, each reason with its step."""
    owner.post("/automations/recipes/did-not-arrive")
    automation = db_session.scalars(select(Automation)).one()
    response = owner.post(f"/automations/{automation.id}/journey", {
        "step-1-body": "Hi {{ nickname }}", "step-2-minutes": "two days",
        "step-4-subject": "Missed you", "step-4-body": "Rebook",
    })
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Step 1:" in html and "nickname" in html
    assert "Step 2: enter the wait in whole minutes" in html
    db_session.expire_all()
    assert [v.number for v in db_session.scalars(select(JourneyVersion))] == [1]


def test_a_malformed_block_line_in_a_journey_email_is_refused_naming_its_step(
    connected, db_session, clock, owner
) -> None:
    """An e-mail step's bad [button line is refused on save with its step; the same line in an SMS is text."""
    owner.post("/automations/recipes/did-not-arrive")
    automation = db_session.scalars(select(Automation)).one()
    response = owner.post(f"/automations/{automation.id}/journey", {
        "step-1-body": "Rebook: {{ book_now_url }}\n[button: Book",
        "step-4-subject": "Missed you", "step-4-body": "Hi {{ first_name }}\n[button: Book a new time",
    })
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Step 4: Line 2 of the e-mail starts like a block but does not end with ]" in html
    assert "Step 1: Line" not in html  # SMS has no blocks: the line is text
    db_session.expire_all()
    assert [v.number for v in db_session.scalars(select(JourneyVersion))] == [1]

    fixed = owner.post(f"/automations/{automation.id}/journey", {
        "step-1-body": "Rebook: {{ book_now_url }}\n[button: Book",
        "step-4-subject": "Missed you", "step-4-body": "Hi {{ first_name }}\n[button: Book a new time]",
    })
    assert fixed.status_code in (200, 204, 303), fixed.get_data(as_text=True)
    db_session.expire_all()
    assert [v.number for v in db_session.scalars(select(JourneyVersion))] == [1, 2]


def test_the_reminder_recipe_warns_about_contacts_cliniko_already_reminds(staff, db_session, clock) -> None:
    """Contacts whose Cliniko reminder type is set are counted under the reminder recipe."""
    for reminder_type in ("SMS", "SMS & Email", "None", None):
        make_contact(db_session, clock, cliniko_reminder_type=reminder_type)
    make_contact(db_session, clock, cliniko_reminder_type="Email", archived_at=clock.now())
    db_session.commit()
    html = staff.get("/automations/recipes").get_data(as_text=True)
    reminder = html.split('id="recipe-reminder-24h"')[1].split("</tr>")[0]
    assert "Cliniko already sends its own reminders to 2\n            contacts" in reminder
    follow_up = html.split('id="recipe-did-not-arrive"')[1].split("</tr>")[0]
    assert "Cliniko already sends" not in follow_up


def test_the_reminder_recipe_skips_patients_cliniko_reminds_unless_told_otherwise(
    connected, sandbox, make_patient, pull, dispatch, db_session, clock, owner, fake_twilio
) -> None:
    """Cliniko reminds one patient by SMS: the recipe's reminder skips them (and says why) until unticked."""
    reminded, plain = make_patient("Rae"), make_patient("Pat", mobile="0413 222 333")
    sandbox.store.edit_patient(reminded.cliniko_id, reminder_type="SMS")
    sandbox.store.edit_patient(plain.cliniko_id, reminder_type="None")
    pull()
    owner.post("/automations/recipes/reminder-24h")
    automation = db_session.scalars(select(Automation)).one()
    assert automation.skip_cliniko_reminded
    starts = clock.now() + timedelta(days=2)
    for patient in (reminded, plain):
        sandbox.store.add_appointment(patient_id=patient.cliniko_id, starts_at=iso(starts))
    clock.set(starts - timedelta(hours=24) + timedelta(seconds=30))
    pull()
    dispatch()
    dispatch()
    assert [m.to for m in fake_twilio.received] == ["+61413222333"]
    skipped = [s for s in sends(db_session) if s.state == "skipped"]
    assert [(s.channel, s.reason) for s in skipped] == [("sms", "cliniko_reminds")]


def test_the_demo_starts_with_two_recipes_switched_on_once(staff, db_session, clock) -> None:
    """`make run` turns on the reminder and the did-not-arrive follow-up, so a newcomer sees them work;
    a demo restarted later (it already has automations) gets no copies."""
    from oncord.demo import seed_demo_recipes

    seed_demo_recipes(db_session, clock)
    db_session.commit()
    seed_demo_recipes(db_session, clock)
    db_session.commit()

    automations = db_session.scalars(select(Automation).order_by(Automation.id)).all()
    assert [(a.name, a.enabled, a.is_service) for a in automations] == [
        ("24-hour appointment reminder", True, True), ("Did-not-arrive follow-up", True, False)]
    follow_up = JourneyVersion.automation_id == automations[1].id
    versions = db_session.scalars(select(JourneyVersion).where(follow_up))
    assert [len(v.steps) for v in versions] == [4]
    page = staff.get("/automations")
    assert "24-hour appointment reminder" in page.text and "Did-not-arrive follow-up" in page.text
