"""The public unsubscribe link: signed, no login, immediate, recorded, and RFC 8058 one-click."""

from __future__ import annotations

from sqlalchemy import select

from oncord import context
from oncord.messaging.unsubscribe import make_token, read_token, unsubscribe_url
from oncord.models import ActivityEvent, ConsentChange, Contact
from tests.factories import make_contact


def test_tokens_are_signed_and_name_contact_and_channel(app) -> None:
    """A token reads back; a changed one is refused."""
    secret = context.settings(app).secret_key
    token = make_token(secret, 42, "sms")
    assert read_token(secret, token) == (42, "sms")
    assert read_token(secret, token[:-2] + "xx") is None
    assert read_token("another-secret", token) is None
    assert len(unsubscribe_url("https://o.example", secret, 123456, "sms")) < 70  # keeps SMS short


def test_the_link_asks_then_unsubscribes_at_once_and_records_it(app, client, db_session, clock) -> None:
    """GET changes nothing; the button (no login, no CSRF token) unsubscribes and keeps history."""
    contact = make_contact(db_session, clock, email="ava@example.com", email_marketing_status="subscribed")
    db_session.commit()
    url = unsubscribe_url("http://localhost", context.settings(app).secret_key, contact.id, "email")
    page = client.get(url)
    assert page.status_code == 200 and "Unsubscribe" in page.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Contact, contact.id).email_marketing_status == "subscribed"

    done = client.post(url)
    assert done.status_code == 200 and "You are unsubscribed" in done.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Contact, contact.id).email_marketing_status == "unsubscribed"
    change = db_session.scalars(select(ConsentChange)).one()
    assert (change.channel, change.old_status, change.new_status, change.source) == (
        "email",
        "subscribed",
        "unsubscribed",
        "unsubscribe_link",
    )
    event = db_session.scalars(select(ActivityEvent)).one()
    assert event.kind == "consent_changed" and event.details["source"] == "unsubscribe_link"
    client.post(url)
    assert len(db_session.scalars(select(ConsentChange)).all()) == 1  # once only


def test_one_click_post_from_a_mail_client(app, client, db_session, clock) -> None:
    """Gmail's POST with List-Unsubscribe=One-Click gets a plain 200 and unsubscribes SMS or e-mail."""
    contact = make_contact(db_session, clock, phone="0412 345 678", sms_marketing_status="pending")
    db_session.commit()
    url = unsubscribe_url("http://localhost", context.settings(app).secret_key, contact.id, "sms")
    response = client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and response.get_data(as_text=True) == "Unsubscribed."
    db_session.expire_all()
    contact = db_session.get(Contact, contact.id)
    assert (contact.sms_marketing_status, contact.email_marketing_status) == ("unsubscribed", "pending")


def test_a_forged_link_is_not_found(client) -> None:
    """Someone guessing tokens gets a 404."""
    assert client.get("/u/WzEsImUiXQ.forged").status_code == 404
    assert client.post("/u/WzEsImUiXQ.forged").status_code == 404
