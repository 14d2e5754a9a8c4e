"""Switching an automation's trigger in the editor, in Chromium: untouched defaults follow the trigger."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from oncord.automations.triggers import TRIGGERS
from oncord.models import Automation
from tests.browser.test_staff_flows import log_in
from tests.factories import make_user

pytestmark = pytest.mark.browser


def test_switching_the_trigger_swaps_untouched_defaults_and_keeps_typed_text(
    page: Page, live_server, app, db_session, clock
) -> None:
    """Upcoming → cancelled → rescheduled: subject, e-mail and "24 hours" follow the trigger, the SMS
    staff typed stays, and what is saved is what the editor showed."""
    make_user(db_session, clock, email="reception@clinic.example")
    db_session.commit()
    upcoming, cancelled, rescheduled = (TRIGGERS[k].defaults for k in ("upcoming", "cancelled",
                                                                       "rescheduled"))
    log_in(page, live_server, "reception@clinic.example", "/automations/new")
    subject = page.get_by_label("Subject")
    body, sms = page.get_by_label("E-mail", exact=True), page.get_by_label("SMS", exact=True)
    amount, unit = page.get_by_label("How long"), page.get_by_label("Unit")
    expect(subject).to_have_value(upcoming.email_subject)
    expect(amount).to_have_value("24")
    expect(unit).to_have_value("hours")
    sms.fill("Hi {{ first_name }}, our own words.")

    page.get_by_label("When").select_option(label=TRIGGERS["cancelled"].choice)
    expect(subject).to_have_value(cancelled.email_subject)
    expect(body).to_have_value(cancelled.email_body)
    expect(amount).to_have_value("1")
    expect(sms).to_have_value("Hi {{ first_name }}, our own words.")
    expect(page.locator("#trigger-description")).to_have_text(TRIGGERS["cancelled"].description)
    expect(page.get_by_text("Only appointment reminders can be service messages")).to_be_visible()

    subject.fill("We changed this subject")
    page.get_by_label("When").select_option(label=TRIGGERS["rescheduled"].choice)
    expect(body).to_have_value(rescheduled.email_body)
    expect(amount).to_have_value("0")
    expect(subject).to_have_value("We changed this subject")

    page.get_by_label("Name").fill("Moved appointment")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("“Moved appointment” was saved")).to_be_visible()
    db_session.expire_all()
    saved = db_session.scalars(select(Automation)).one()
    assert (saved.trigger, saved.offset_minutes) == ("rescheduled", 0)
    assert saved.email_subject == "We changed this subject" and saved.email_body == rescheduled.email_body
    assert saved.sms_body == "Hi {{ first_name }}, our own words."
