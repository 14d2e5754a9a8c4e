"""SMS counts that match what happens: landlines are left out of the count (and the recipients) with
the reason, and the segment counter is about the text itself, noting when names change it."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.campaigns.helpers import fresh, make_campaign, recipients
from tests.campaigns.test_screens import _form
from tests.factories import make_appointment, make_contact
from tests.web.conftest import post

LANDLINE_REASON = "no mobile number that can receive SMS (none, or a landline)"


def _audience(db_session, clock, people: list[tuple[str, str]]) -> dict[str, int]:
    """Subscribed contacts seen last week, each with a phone."""
    ids = {}
    for first_name, phone in people:
        contact = make_contact(db_session, clock, first_name=first_name, last_name="Test", phone=phone,
                               email=f"{first_name.lower()}@example.com", sms_marketing_status="subscribed",
                               email_marketing_status="subscribed")
        make_appointment(db_session, contact, clock.now() - timedelta(days=7))
        ids[first_name] = contact.id
    db_session.commit()
    return ids


def test_the_sms_audience_counts_only_mobiles_and_lists_landlines_with_the_reason(
    staff, messaging_app, db_session, clock, fake_twilio, start_campaign, work_queue
) -> None:
    """3 mobiles and 2 landlines: "3 will receive", 2 left out as landlines, and 3 recipients when sent."""
    ids = _audience(db_session, clock, [("Ana", "0412 000 001"), ("Ben", "0412 000 002"),
                                         ("Cal", "+61 412 000 003"), ("Dot", "03 9000 0000"),
                                         ("Eve", "(02) 9876 5432")])
    html = post(staff, "/campaigns/audience", _form(channel="sms"), htmx=True).text
    assert "data-receive-count>3<" in html
    reason = re.escape(LANDLINE_REASON)
    assert re.search(rf'<li data-reason="no_mobile"><strong>2</strong> left out: {reason}</li>', html, re.I)
    left_out = html.split("Left out (sample")[1]
    for name in ("Dot", "Eve"):
        pattern = rf'/contacts/{ids[name]}">{name} Test</a>\s*<span class="muted">{reason}'
        assert re.search(pattern, left_out, re.I)
    receiving = html.split("Will receive (sample")[1].split("Left out")[0]
    assert "Dot Test" not in receiving and "Ana Test" in receiving

    campaign = make_campaign(db_session, clock, channel="sms")
    db_session.commit()
    start_campaign(campaign.id)
    work_queue()
    assert fresh(db_session, campaign.id).recipients_total == 3
    assert sorted(r.state for r in recipients(db_session, campaign.id)) == ["sent", "sent", "sent"]
    assert len(fake_twilio.received) == 3


def test_plain_text_is_gsm7_even_when_a_contacts_name_has_an_accent(staff, db_session, clock) -> None:
    """ASCII text counts as GSM-7 (1 segment); the range note says one contact's name makes theirs UCS-2."""
    _audience(db_session, clock, [("Zoë", "0412 000 001"), ("Ana", "0412 000 002")])
    body = "Hi {{ first_name }}, our new pool is open."
    html = post(staff, "/campaigns/sms-counter", _form(channel="sms", sms_body=body), htmx=True).text
    assert "data-encoding>GSM-7<" in html and "data-segments>1<" in html
    assert "UCS-2" in html.split("data-segment-range>")[1]
    assert "makes that contact's message UCS-2" in html

    same = post(staff, "/campaigns/sms-counter", _form(channel="sms", sms_body="Hi!"), htmx=True).text
    assert "data-encoding>GSM-7<" in same
    emoji = post(staff, "/campaigns/sms-counter", _form(channel="sms", sms_body="Hi 🎉"), htmx=True).text
    assert "data-encoding>UCS-2<" in emoji and "makes that contact" not in emoji
