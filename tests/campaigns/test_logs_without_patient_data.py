"""A failed send logs the recipient's id, not the patient's name, e-mail address or number."""

from __future__ import annotations

import logging

from oncord.messaging.email import OutgoingEmail
from tests.campaigns.helpers import make_campaign, recipients
from tests.factories import make_contact

NAME, SURNAME, EMAIL, PHONE = "Philippa", "Quartermaine", "philippa.q@example.com", "0412 345 678"


def test_a_failed_send_logs_no_name_or_address(messaging_app, db_session, clock, start_campaign, work_queue,
                                              monkeypatch, caplog) -> None:
    """A provider error quoting the patient is logged with the recipient's id, never their name or e-mail."""
    contact = make_contact(db_session, clock, first_name=NAME, last_name=SURNAME, email=EMAIL, phone=PHONE,
                           email_marketing_status="subscribed")
    campaign = make_campaign(db_session, clock, email_body="Hi {{ first_name }}")
    db_session.commit()

    def refuses(_sender, email: OutgoingEmail) -> str:
        raise RuntimeError(f"mailbox of {email.to_name} <{email.to_address}> ({PHONE}) is not reachable")

    monkeypatch.setattr("oncord.messaging.email.SmtpSender.send", refuses)
    with caplog.at_level(logging.INFO):
        start_campaign(campaign.id)
        work_queue()
    text = caplog.text
    assert "unexpected error from the provider" in text and "is not reachable" in text  # it was logged
    for secret in (NAME, SURNAME, EMAIL, PHONE, "philippa"):
        assert secret.lower() not in text.lower(), secret
    recipient = recipients(db_session, campaign.id)[0]
    assert recipient.contact_id == contact.id and recipient.state == "failed"
    assert f"campaign recipient {recipient.id}: unexpected error" in text  # the id is kept
    assert "[name]" in text and "[email]" in text
