"""The editor and the trigger registry: the preview uses an appointment the automation would fire for,
and switching the trigger replaces only the defaults nobody touched."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from sqlalchemy import select

from oncord.automations.triggers import TRIGGERS
from oncord.forms.automations import default_timing
from oncord.models import Automation, Trigger
from tests.automations.helpers import make_automation
from tests.factories import make_appointment, make_appointment_type, make_contact

UPCOMING, CANCELLED = TRIGGERS["upcoming"].defaults, TRIGGERS["cancelled"].defaults


def _form(**changes: str) -> dict[str, str]:
    """The new-automation editor as a browser posts it: upcoming defaults, e-mail and SMS on."""
    amount, unit = default_timing(UPCOMING.offset_minutes)
    form = {
        "name": "Reminder", "trigger": "upcoming", "defaults_for": "upcoming",
        "timing_amount": str(amount), "timing_unit": unit, "message_kind": "service",
        "send_when_booked_late": "y", "send_email": "y", "send_sms": "y",
        "email_subject": UPCOMING.email_subject, "email_body": UPCOMING.email_body.replace("\n", "\r\n"),
        "sms_body": UPCOMING.sms_body,
    }
    return {**form, **changes}


def _values(page: str) -> dict[str, str]:
    """The editor's field values as rendered (inputs, checked radios, selected options, textareas)."""
    values: dict[str, str] = {}
    for tag in re.findall(r"<input [^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and value and ('type="radio"' not in tag or "checked" in tag):
            values[name.group(1)] = html.unescape(value.group(1))
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        values[name] = html.unescape(body).strip()
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', options)
        if chosen:
            values[name] = chosen.group(1) or chosen.group(2)
    return values


def test_every_trigger_has_one_registry_entry_the_editor_offers(staff) -> None:
    """The stored values, the registry and the editor's choices agree, and each entry's defaults are valid."""
    assert list(TRIGGERS) == [t.value for t in Trigger]
    page = staff.get("/automations/new").get_data(as_text=True)
    select_html = page.split('name="trigger"')[1].split("</select>")[0]
    offered = re.findall(r'<option (?:selected )?value="([a-z_]+)"', select_html)
    assert offered == list(TRIGGERS)
    for key, entry in TRIGGERS.items():
        amount, unit = default_timing(entry.defaults.offset_minutes)
        response = staff.post("/automations/new", _form(
            name=f"Defaults of {key}", trigger=key, defaults_for=key, timing_amount=str(amount),
            timing_unit=unit,
            message_kind="marketing", email_subject=entry.defaults.email_subject,
            email_body=entry.defaults.email_body, sms_body=entry.defaults.sms_body,
        ))
        assert response.status_code == 204, (key, response.get_data(as_text=True)[:2000])


def test_a_rescheduled_automation_is_saved_and_described(staff, db_session) -> None:
    """The new trigger goes through the form, the CHECK constraint and the list's description."""
    response = staff.post("/automations/new", _form(
        name="Moved", trigger="rescheduled", timing_amount="0", timing_unit="hours", message_kind="marketing",
    ))
    assert response.status_code == 204
    automation = db_session.scalars(select(Automation).where(Automation.name == "Moved")).one()
    assert automation.trigger == "rescheduled" and automation.offset_minutes == 0
    assert "Straight after a reschedule" in staff.get("/automations").get_data(as_text=True)


def test_switching_the_trigger_replaces_untouched_defaults_only(staff) -> None:
    """Upcoming → cancelled: subject, body, SMS and "24 hours" become the cancellation's; what staff
    typed stays; a reminder-only service choice falls back to marketing."""
    page = staff.post("/automations/new/trigger", _form(trigger="cancelled")).get_data(as_text=True)
    values = _values(page)
    amount, unit = default_timing(CANCELLED.offset_minutes)
    assert (values["email_subject"], values["email_body"], values["sms_body"]) == (
        CANCELLED.email_subject, CANCELLED.email_body, CANCELLED.sms_body)
    assert (values["timing_amount"], values["timing_unit"]) == (str(amount), unit)
    assert values["defaults_for"] == "cancelled" and values["message_kind"] == "marketing"
    assert 'id="trigger-description">' + html.escape(TRIGGERS["cancelled"].description) in page

    typed = _form(trigger="cancelled", email_subject="Our own words", timing_amount="48")
    values = _values(staff.post("/automations/new/trigger", typed).get_data(as_text=True))
    assert values["email_subject"] == "Our own words" and values["timing_amount"] == "48"
    assert values["email_body"] == CANCELLED.email_body

    # And back: the cancellation's untouched defaults become the reminder's again.
    back = _form(trigger="upcoming", defaults_for="cancelled", email_subject=CANCELLED.email_subject,
                 email_body=CANCELLED.email_body, sms_body=CANCELLED.sms_body, timing_amount=str(amount),
                 timing_unit=unit)
    values = _values(staff.post("/automations/new/trigger", back).get_data(as_text=True))
    assert (values["email_subject"], values["timing_amount"], values["timing_unit"]) == (
        UPCOMING.email_subject, "24", "hours")


def test_switching_a_saved_automations_trigger_saves_nothing(staff, db_session, clock) -> None:
    """The switch only redraws the editor; the automation changes on Save."""
    automation = make_automation(db_session, clock, email_subject=UPCOMING.email_subject)
    db_session.commit()
    page = staff.get(f"/automations/{automation.id}").get_data(as_text=True)
    assert _values(page)["defaults_for"] == "upcoming"
    response = staff.post(f"/automations/{automation.id}/trigger", _form(trigger="finished"))
    assert response.status_code == 200
    finished = TRIGGERS["finished"].defaults.email_subject
    assert _values(response.get_data(as_text=True))["email_subject"] == finished
    db_session.expire_all()
    assert db_session.get(Automation, automation.id).trigger == "upcoming"


def test_preview_uses_an_appointment_that_matches_the_filters(staff, db_session, clock) -> None:
    """A sooner appointment of another type is passed over for the matching one."""
    massage, consult = make_appointment_type(db_session, "Sports massage"), make_appointment_type(db_session)
    contact = make_contact(db_session, clock, first_name="Mia", email="mia@example.com",
                           email_marketing_status="subscribed")
    make_appointment(db_session, contact, clock.now() + timedelta(days=1), appointment_type_id=consult.id)
    make_appointment(db_session, contact, clock.now() + timedelta(days=5), appointment_type_id=massage.id)
    db_session.commit()
    form = _form(send_sms="", email_subject="{{ appointment_type }} on {{ appointment_date }}",
                 appointment_types=str(massage.id), preview_contact=str(contact.id))
    page = staff.post("/automations/preview", form).get_data(as_text=True)
    assert "Sports massage on" in page and "Would be sent to mia@example.com" in page
    assert "Initial consultation" not in page


def test_preview_says_when_the_contact_has_no_matching_appointment(staff, db_session, clock) -> None:
    """Only another type's appointment, or (for a reminder) only past ones: "would not be sent", and why."""
    massage, consult = make_appointment_type(db_session, "Sports massage"), make_appointment_type(db_session)
    contact = make_contact(db_session, clock, first_name="Leo", last_name="Brown", email="leo@example.com",
                           email_marketing_status="subscribed")
    make_appointment(db_session, contact, clock.now() + timedelta(days=1), appointment_type_id=consult.id)
    make_appointment(db_session, contact, clock.now() - timedelta(days=9), appointment_type_id=massage.id)
    db_session.commit()
    filtered = _form(send_sms="", appointment_types=str(massage.id), preview_contact=str(contact.id))
    page = html.unescape(staff.post("/automations/preview", filtered).get_data(as_text=True))
    assert "Would not be sent: Leo Brown has no upcoming appointment of the chosen appointment types" in page
    assert "Would be sent" not in page

    follow_up = {**filtered, "trigger": "cancelled", "message_kind": "marketing", "timing_amount": "1"}
    page = html.unescape(staff.post("/automations/preview", follow_up).get_data(as_text=True))
    assert "Would be sent to leo@example.com" in page  # the past massage counts for a follow-up

    other = make_appointment_type(db_session, "Hydrotherapy")
    db_session.commit()
    none = {**follow_up, "appointment_types": str(other.id)}
    page = html.unescape(staff.post("/automations/preview", none).get_data(as_text=True))
    assert "Would not be sent: Leo Brown has no appointment of the chosen appointment types" in page
