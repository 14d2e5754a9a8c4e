"""Unsubscribing from a campaign: the received e-mail's link and an SMS STOP reply, through to Cliniko."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import requests
from sqlalchemy import select

from oncord import context
from oncord.campaigns.report import progress
from oncord.campaigns.unsubscribes import note_unsubscribe
from oncord.messaging.inbound import is_opt_out, twilio_signature, valid_twilio_request
from oncord.models import ActivityEvent, CampaignRecipient, ConsentChange, Contact, PatientChange
from tests.campaigns.helpers import make_campaign, recipients
from tests.factories import make_contact
from tests.fixtures.messaging import PUBLIC_URL
from tests.sync.helpers import USER_AGENT

HOOK = "/hooks/twilio/sms"


def _patient(sandbox, patient_id: str) -> dict:
    response = requests.get(
        f"{sandbox.base_url}/patients/{patient_id}",
        auth=(sandbox.api_key, ""),
        headers={"User-Agent": USER_AGENT},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def _contact(session, patient_id: str) -> Contact:
    session.expire_all()
    return session.scalars(select(Contact).where(Contact.cliniko_patient_id == patient_id)).one()


def _push_now(app, clock, work_queue) -> None:
    """Let the push's debounce pass and run what RQ's scheduler would."""
    clock.advance(seconds=context.settings(app).sync_push_delay_seconds + 1)
    work_queue()


def test_one_click_unsubscribe_from_the_received_email_reaches_cliniko(
    connected, sandbox, make_patient, pull, db_session, clock, smtp_sink, client, start_campaign, work_queue
) -> None:
    """The received e-mail's List-Unsubscribe link: unsubscribed at once, recorded, counted, pushed."""
    olivia, noah = make_patient("Olivia"), make_patient("Noah", mobile="0412 345 679")
    pull()
    campaign = make_campaign(db_session, clock)
    db_session.commit()
    start_campaign(campaign.id)
    work_queue()
    assert len(smtp_sink.received) == 2
    email = next(m for m in smtp_sink.received if m.rcpt_tos[0].startswith("olivia"))

    link = email.message["List-Unsubscribe"].strip().strip("<>")
    assert link.startswith(PUBLIC_URL + "/u/") and link in email.text()
    path = urlsplit(link).path
    page = client.get(path)  # opening the link (or a mail scanner doing so) changes nothing
    assert page.status_code == 200 and _contact(db_session, olivia).email_marketing_status == "subscribed"
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})  # what Gmail sends (RFC 8058)
    assert response.status_code == 200

    contact = _contact(db_session, olivia)
    assert contact.email_marketing_status == "unsubscribed"
    change = db_session.scalars(
        select(ConsentChange).where(
            ConsentChange.contact_id == contact.id, ConsentChange.new_status == "unsubscribed"
        )
    ).one()
    assert (change.channel, change.new_status, change.source) == ("email", "unsubscribed", "unsubscribe_link")
    feed = db_session.scalars(
        select(ActivityEvent).where(
            ActivityEvent.contact_id == contact.id, ActivityEvent.kind == "consent_changed"
        )
    ).one()
    assert feed.details["source"] == "unsubscribe_link"
    rows = {r.contact_id: r for r in recipients(db_session, campaign.id)}
    assert rows[contact.id].unsubscribed_at == clock.now()
    assert rows[_contact(db_session, noah).id].unsubscribed_at is None
    assert progress(db_session, campaign.id).unsubscribed == 1
    assert db_session.scalars(
        select(PatientChange.field).where(PatientChange.contact_id == contact.id)
    ).all() == ["email_marketing_status"]

    assert _patient(sandbox, olivia)["accepted_email_marketing"] is True
    _push_now(connected, clock, work_queue)
    assert _patient(sandbox, olivia)["accepted_email_marketing"] is False
    assert _patient(sandbox, noah)["accepted_email_marketing"] is True
    clock.advance(minutes=1)
    pull()
    assert _contact(db_session, olivia).email_marketing_status == "unsubscribed"  # a pull never undoes it


def _signed_post(client, app, form: dict[str, str], *, signature: str | None = None):
    settings = context.settings(app)
    params = {
        "AccountSid": settings.twilio_account_sid,
        "MessageSid": "SM" + "1" * 32,
        "To": "+61400000000",
        **form,
    }
    signed = signature or twilio_signature(settings.twilio_auth_token, PUBLIC_URL + HOOK, params.items())
    return client.post(HOOK, data=params, headers={"X-Twilio-Signature": signed})


def test_sms_stop_reply_unsubscribes_the_number_and_reaches_cliniko(
    connected, sandbox, make_patient, pull, db_session, clock, fake_twilio, client, start_campaign, work_queue
) -> None:
    """A signed STOP from the campaign's recipient: SMS Unsubscribed (source SMS STOP), counted, pushed."""
    olivia = make_patient("Olivia", mobile="0412 345 678")
    make_patient("Noah", mobile="0412 345 679")
    pull()
    campaign = make_campaign(db_session, clock, channel="sms")
    db_session.commit()
    start_campaign(campaign.id)
    work_queue()
    assert sorted(s.to for s in fake_twilio.received) == ["+61412345678", "+61412345679"]

    clock.advance(hours=2)
    hello = _signed_post(client, connected, {"From": "+61412345678", "Body": "Thanks, see you then"})
    assert hello.status_code == 200 and _contact(db_session, olivia).sms_marketing_status == "subscribed"
    response = _signed_post(client, connected, {"From": "+61412345678", "Body": " Stop. "})
    assert response.status_code == 200 and response.mimetype == "text/xml" and "<Response>" in response.text

    contact = _contact(db_session, olivia)
    assert (contact.sms_marketing_status, contact.email_marketing_status) == ("unsubscribed", "subscribed")
    change = db_session.scalars(
        select(ConsentChange).where(
            ConsentChange.contact_id == contact.id, ConsentChange.new_status == "unsubscribed"
        )
    ).one()
    assert (change.channel, change.source) == ("sms", "sms_stop")
    assert progress(db_session, campaign.id).unsubscribed == 1
    _push_now(connected, clock, work_queue)
    assert _patient(sandbox, olivia)["accepted_sms_marketing"] is False


def test_the_webhook_refuses_what_twilio_did_not_sign(
    connected, make_patient, pull, db_session, clock, client
) -> None:
    """A forged or unsigned STOP changes nothing (anyone could post to a public URL)."""
    olivia = make_patient("Olivia")
    pull()
    assert (
        _signed_post(
            client, connected, {"From": "+61412345678", "Body": "STOP"}, signature="bm90IGEgc2lnbmF0dXJl"
        ).status_code
        == 403
    )
    assert client.post(HOOK, data={"From": "+61412345678", "Body": "STOP"}).status_code == 403
    assert _contact(db_session, olivia).sms_marketing_status == "subscribed"


def test_twilio_signature_matches_the_documented_example() -> None:
    """The worked example of Twilio's webhook security guide."""
    params = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+12349013030"),
        ("Digits", "1234"),
        ("From", "+12349013030"),
        ("To", "+18005551212"),
    ]
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert twilio_signature("12345", url, reversed(params)) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    assert valid_twilio_request("12345", url, params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    assert not valid_twilio_request(
        "12345", url, [*params[:-1], ("To", "+1")], "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    )
    assert not valid_twilio_request("", url, params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")


def test_opt_out_words() -> None:
    """Twilio's opt-out keywords on their own, in any case; sentences that merely contain them do not."""
    for body in ("STOP", "stop", " Stop! ", "unsubscribe", "STOPALL", "quit", "End", "cancel"):
        assert is_opt_out(body), body
    for body in ("please don't stop", "Can I cancel my booking?", "", "STOP IT", "start"):
        assert not is_opt_out(body), body
    assert is_opt_out("no more please", "STOP")  # Twilio's Advanced Opt-Out classified it


def test_one_unsubscribe_counts_against_the_latest_campaign_only(db_session, clock) -> None:
    """An SMS STOP is counted once, against the latest campaign SMS within 30 days."""
    contact = make_contact(db_session, clock, phone="0412 345 678")
    ids = []
    for days_ago in (40, 10, 2):
        campaign = make_campaign(db_session, clock, channel="sms", state="sent", name=f"{days_ago} days ago")
        sent = clock.now() - timedelta(days=days_ago)
        row = CampaignRecipient(
            campaign_id=campaign.id,
            contact_id=contact.id,
            state="sent",
            sent_at=sent,
            created_at=sent,
            updated_at=sent,
        )
        db_session.add(row)
        db_session.flush()
        ids.append(row.id)
    assert note_unsubscribe(db_session, contact.id, "sms", clock.now()) == ids[2]
    assert note_unsubscribe(db_session, contact.id, "sms", clock.now()) == ids[1]
    assert note_unsubscribe(db_session, contact.id, "sms", clock.now()) is None  # 40 days is too long ago
    assert note_unsubscribe(db_session, contact.id, "email", clock.now()) is None
