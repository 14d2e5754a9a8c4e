"""The automation screens: list with switch and counts, editor, preview, test send, send log, settings."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from oncord.models import (
    Automation,
    AutomationSend,
    Business,
    ConsentChange,
    MessagingSettings,
    PatientChange,
)
from tests.automations.helpers import make_automation
from tests.factories import make_appointment, make_appointment_type, make_contact, make_practitioner
from tests.fixtures.messaging import SENDER_EMAIL

NEW_FORM = {
    "name": "Did-not-arrive follow-up",
    "trigger": "did_not_arrive",
    "timing_amount": "2",
    "timing_unit": "hours",
    "message_kind": "marketing",
    "send_email": "y",
    "email_subject": "We missed you, {{ first_name }}",
    "email_body": "Hi {{ first_name }}, book again: {{ book_now_url }}",
    "sms_body": "",
}


def _send(session, automation, appointment, contact, state, channel="email", **fields):
    now = automation.created_at
    row = AutomationSend(
        automation_id=automation.id,
        appointment_id=appointment.id,
        contact_id=contact.id,
        trigger_key=automation.trigger,
        channel=channel,
        state=state,
        due_at=now,
        created_at=now,
        updated_at=now,
        **fields,
    )
    session.add(row)
    session.flush()
    return row


def test_anonymous_visitors_are_sent_to_log_in(messaging_app) -> None:
    """The screens need a login."""
    response = messaging_app.test_client().get("/automations")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_list_shows_counts_and_switches_on_and_off(staff, db_session, clock) -> None:
    """Counts per state link to the log; the switch answers with its row and never back-fills."""
    automation = make_automation(db_session, clock, name="Reminder")
    contact = make_contact(db_session, clock, email="a@example.com")
    for n in range(3):
        appointment = make_appointment(db_session, contact, clock.now() + timedelta(days=n + 1))
        _send(
            db_session, automation, appointment, contact, ["sent", "sent", "skipped"][n], reason="no_consent"
        )
    db_session.commit()

    page = staff.get("/automations").get_data(as_text=True)
    assert "Reminder" in page and "1 day before an appointment" in page
    assert re.search(r"state=sent\"[^>]*>2<", page) and re.search(r"state=skipped\"[^>]*>1<", page)

    off = staff.post(f"/automations/{automation.id}/toggle", {})
    assert off.status_code == 200 and "Turn on" in off.get_data(as_text=True)
    clock.advance(hours=3)
    on = staff.post(f"/automations/{automation.id}/toggle", {"enabled": "y"})
    assert "Turn off" in on.get_data(as_text=True)
    db_session.expire_all()
    stored = db_session.get(Automation, automation.id)
    assert stored.enabled and stored.activated_at == clock.now()


def test_editor_offers_clinikos_lists_before_any_appointment(staff, db_session) -> None:
    """A new appointment type and practitioner from the sync are choices even with no appointments."""
    make_appointment_type(db_session, "Hydrotherapy class")
    make_practitioner(db_session, "Sam Okafor")
    db_session.commit()
    page = staff.get("/automations/new").get_data(as_text=True)
    assert "Hydrotherapy class" in page and "Sam Okafor" in page
    assert "{{ first_name }}" in page  # the merge-field list


def test_saving_checks_the_form_and_stores_the_automation(staff, db_session) -> None:
    """No channel or an unknown merge field comes back as 422; a valid form is saved, off."""
    kind = make_appointment_type(db_session, "Initial consultation")
    db_session.commit()
    response = staff.post("/automations/new", {**NEW_FORM, "send_email": ""})
    assert response.status_code == 422 and "at least one channel" in response.get_data(as_text=True)
    response = staff.post("/automations/new", {**NEW_FORM, "email_body": "Hi {{ firstname }}"})
    assert response.status_code == 422 and "Unknown merge field" in response.get_data(as_text=True)
    response = staff.post("/automations/new", {**NEW_FORM, "message_kind": "service"})
    assert response.status_code == 422 and "Only appointment reminders" in response.get_data(as_text=True)

    response = staff.post("/automations/new", {**NEW_FORM, "appointment_types": str(kind.id)})
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/automations"
    automation = db_session.scalars(select(Automation)).one()
    assert (automation.trigger, automation.offset_minutes, automation.enabled) == (
        "did_not_arrive",
        120,
        False,
    )
    assert [t.name for t in automation.appointment_types] == ["Initial consultation"]
    assert not automation.is_service


def test_preview_fills_in_a_real_contact_and_says_whether_they_would_get_it(staff, db_session, clock) -> None:
    """Merged text in the clinic's zone, the consent verdict per channel, and SMS segments."""
    business = Business(cliniko_id="b1", name="Sunnyside Perth", time_zone_identifier="Australia/Perth")
    db_session.add(business)
    contact = make_contact(
        db_session,
        clock,
        first_name="Mia",
        email="mia@example.com",
        phone="0412 000 111",
        email_marketing_status="subscribed",
        sms_marketing_status="pending",
    )
    make_appointment(db_session, contact, clock.now() + timedelta(days=1), business_id=None)
    db_session.flush()
    appointment = make_appointment(db_session, contact, clock.now() + timedelta(hours=20))
    appointment.business_id = business.id
    db_session.commit()
    form = {
        **NEW_FORM,
        "trigger": "upcoming",
        "timing_amount": "24",
        "send_sms": "y",
        "sms_body": "Hi {{ first_name }}, see you {{ appointment_start }} ✨",
        "preview_contact": str(contact.id),
    }
    html = staff.post("/automations/preview", form).get_data(as_text=True)
    # 20 hours after 23:00 UTC is 19:00 UTC, 3 am next day in Perth.
    assert "Hi Mia," in html and "at 3:00 am" in html
    assert "Would be sent to mia@example.com" in html
    assert "Would not be sent: not subscribed to marketing on this channel" in html
    assert "UCS-2" in html


def test_send_me_a_test_reaches_the_staff_member(staff, db_session, smtp_sink, fake_twilio) -> None:
    """The test e-mail goes to the logged-in user over SMTP, the test SMS to the number given."""
    form = {
        **NEW_FORM,
        "send_sms": "y",
        "sms_body": "Hi {{ first_name }}",
        "test_email": "reception@clinic.example",
        "test_phone": "0412 999 888",
    }
    html = staff.post("/automations/test-send", form).get_data(as_text=True)
    assert "Test e-mail sent to reception@clinic.example" in html and "Test SMS sent to +61412999888" in html
    assert smtp_sink.received[0].rcpt_tos == ("reception@clinic.example",)
    assert smtp_sink.received[0].message["Subject"] == "[Test] We missed you, Olivia"
    assert smtp_sink.received[0].mail_from == SENDER_EMAIL
    assert fake_twilio.received[0].body.startswith("Hi Olivia")


def test_a_test_sends_unsubscribe_link_unsubscribes_nobody(
    staff, db_session, clock, smtp_sink, fake_twilio
) -> None:
    """A test message filled in for a real patient: its unsubscribe and opt-out links change nothing."""
    contact = make_contact(db_session, clock, first_name="Mia", email="mia@example.com", phone="0412 111 222",
                           email_marketing_status="subscribed", sms_marketing_status="subscribed",
                           cliniko_patient_id="777")
    db_session.commit()
    form = {**NEW_FORM, "send_sms": "y", "sms_body": "Hi {{ first_name }}",
            "preview_contact": str(contact.id), "test_email": "reception@clinic.example",
            "test_phone": "0412 999 888"}
    html = staff.post("/automations/test-send", form).get_data(as_text=True)
    assert "Test e-mail sent" in html and "Test SMS sent" in html
    email_link = smtp_sink.received[0].message["List-Unsubscribe"].strip().strip("<>")
    sms_link = re.search(r"Opt out: (\S+)", fake_twilio.received[0].body).group(1)
    for link in (email_link, sms_link):
        path = "/u/" + link.rsplit("/u/", 1)[1]
        assert "This was a test message; nobody was unsubscribed" in staff.get(path).text
        assert "This was a test message; nobody was unsubscribed" in staff.post(path).text
        one_click = staff.post(path, data={"List-Unsubscribe": "One-Click"})
        assert one_click.text == "This was a test message; nobody was unsubscribed."
    db_session.expire_all()
    assert (contact.email_marketing_status, contact.sms_marketing_status) == ("subscribed", "subscribed")
    assert db_session.scalars(select(ConsentChange)).all() == []
    assert db_session.scalars(select(PatientChange)).all() == []


def test_send_log_shows_reasons_and_pages(staff, db_session, clock) -> None:
    """Each send with its outcome in words; "Load more" brings the next page."""
    automation = make_automation(db_session, clock)
    contact = make_contact(db_session, clock, first_name="Noah", email="noah@example.com")
    for n in range(55):
        appointment = make_appointment(db_session, contact, clock.now() + timedelta(days=1, minutes=n))
        _send(db_session, automation, appointment, contact, "skipped", reason="cancelled_before_due")
    failed = make_appointment(db_session, contact, clock.now() + timedelta(days=3))
    _send(
        db_session,
        automation,
        failed,
        contact,
        "failed",
        error="Twilio refused the SMS: blocked (error 30007)",
    )
    db_session.commit()
    page = staff.get(f"/automations/{automation.id}/log").get_data(as_text=True)
    assert "cancelled before the reminder was due" in page and "error 30007" in page
    more = re.search(r'data-hx-get="([^"]+before=[^"]+)"', page)
    assert more
    rest = staff.get(more.group(1).replace("&amp;", "&"), htmx=True).get_data(as_text=True)
    assert rest.count("data-send-id") == 6
    only_failed = staff.get(f"/automations/{automation.id}/log?state=failed").get_data(as_text=True)
    assert only_failed.count("data-send-id") == 1


def test_messaging_settings_are_for_admins(staff, owner, db_session) -> None:
    """Staff are refused; an admin saves the sender and quiet hours."""
    assert staff.get("/settings/messaging").status_code == 403
    response = owner.post(
        "/settings/messaging",
        {
            "sender_name": "Sunnyside",
            "sender_email": "hi@sunny.example",
            "sms_quiet_on": "y",
            "sms_quiet_start": "20:00",
            "sms_quiet_end": "",
        },
    )
    assert response.status_code == 422 and "Enter both times" in response.get_data(as_text=True)
    response = owner.post(
        "/settings/messaging",
        {
            "sender_name": "Sunnyside",
            "sender_email": "hi@sunny.example",
            "sms_quiet_on": "y",
            "sms_quiet_start": "20:30",
            "sms_quiet_end": "08:00",
        },
    )
    assert response.status_code == 204
    db_session.expire_all()
    row = db_session.get(MessagingSettings, 1)
    assert (row.sender_email, row.sms_quiet_start, row.sms_quiet_end) == ("hi@sunny.example", 1230, 480)
    # E-mail's box was unticked: switched off, which is not the same as never set.
    assert (row.sms_quiet_off, row.email_quiet_off) == (False, True)


def test_editing_a_saved_automation_keeps_and_changes_it(staff, db_session, clock) -> None:
    """The editor shows the saved values; saving changes them; unknown ids are 404."""
    automation = make_automation(
        db_session,
        clock,
        name="Care",
        trigger="finished",
        offset_minutes=2 * 24 * 60,
        is_service=False,
        require_arrived=True,
        send_sms=False,
    )
    db_session.commit()
    page = staff.get(f"/automations/{automation.id}").get_data(as_text=True)
    assert 'value="Care"' in page and 'value="2"' in page and '<option selected value="days">' in page
    response = staff.post(
        f"/automations/{automation.id}",
        {
            **NEW_FORM,
            "name": "Care after visits",
            "trigger": "finished",
            "timing_amount": "3",
            "timing_unit": "hours",
            "require_arrived": "y",
        },
    )
    assert response.status_code == 204
    db_session.expire_all()
    saved = db_session.get(Automation, automation.id)
    assert (saved.name, saved.offset_minutes, saved.require_arrived, saved.enabled) == (
        "Care after visits",
        180,
        True,
        False,
    )
    assert staff.get("/automations/999999").status_code == 404


def test_an_email_automation_cannot_be_turned_on_without_a_sender(staff, db_session, clock) -> None:
    """No sender name and address: the switch explains what to do and leaves it off."""
    db_session.delete(db_session.get(MessagingSettings, 1))
    automation = make_automation(db_session, clock, enabled=False, activated_at=None)
    db_session.commit()
    row = staff.post(f"/automations/{automation.id}/toggle", {"enabled": "y"}).get_data(as_text=True)
    assert "Settings → Messaging" in row and "Turn on" in row
    db_session.expire_all()
    assert db_session.get(Automation, automation.id).enabled is False


def test_a_template_that_fails_on_the_sample_is_refused_on_save_and_cannot_be_turned_on(
    staff, db_session, clock
) -> None:
    """Division by zero, include, a loop bomb: back on the form with the line; a stored one stays off."""
    for body, words in [
        ("Hi\n{{ 1/0 }}", "Line 2: The template could not be filled in: it divides by zero."),
        ("{% include 'x' %}", "{% include %} is not available in messages"),
        ("{% for i in range(999) %}{% for j in range(999) %}x{% endfor %}{% endfor %}", "repeats too often"),
    ]:
        response = staff.post("/automations/new", {**NEW_FORM, "email_body": body})
        assert response.status_code == 422 and words in response.get_data(as_text=True), body
    stored = make_automation(db_session, clock, enabled=False, activated_at=None, email_body="Hi {{ 1/0 }}")
    db_session.commit()
    row = staff.post(f"/automations/{stored.id}/toggle", {"enabled": "y"}).get_data(as_text=True)
    assert "divides by zero" in row and "Turn on" in row
    db_session.expire_all()
    assert db_session.get(Automation, stored.id).enabled is False


def test_the_editor_works_with_a_zone_and_subdomain_that_are_not_real(staff, db_session, clock) -> None:
    """A bad location zone or Cliniko subdomain: the editor and preview open and say what is wrong."""
    from tests.factories import make_connection

    make_connection(db_session, clock, subdomain="not a label!", time_zone_identifier="Not/AZone")
    business = Business(cliniko_id="b9", name="Nowhere", time_zone_identifier="Mars/Olympus_Mons")
    db_session.add(business)
    contact = make_contact(db_session, clock, first_name="Mia", email="mia@example.com",
                           email_marketing_status="subscribed")
    appointment = make_appointment(db_session, contact, clock.now() + timedelta(hours=20))
    appointment.business_id = business.id
    db_session.commit()
    assert staff.get("/automations/new").status_code == 200
    form = {**NEW_FORM, "trigger": "upcoming", "timing_amount": "24", "preview_contact": str(contact.id),
            "email_body": "Hi {{ first_name }}, see you {{ appointment_start }}. {{ book_now_url }}"}
    response = staff.post("/automations/preview", form)
    assert response.status_code == 200 and "time zone" in response.get_data(as_text=True)
    form["email_body"] = "Book: {{ book_now_url }}"
    response = staff.post("/automations/preview", form)
    assert response.status_code == 200 and "Book Now link cannot be made" in response.get_data(as_text=True)
