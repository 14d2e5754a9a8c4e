"""The demo's outbox backend: messages are stored and shown, nothing leaves the machine."""

from __future__ import annotations

from oncord import context
from oncord.db import get_database
from oncord.messaging.email import OutgoingEmail
from oncord.messaging.profile import make_email_sender, make_sms_provider
from oncord.messaging.sms import OutgoingSms
from tests.factories import make_user

PASSWORD = "correct horse battery"


def test_outbox_keeps_both_channels_and_staff_can_read_them(app, db_session, clock) -> None:
    """Demo and test mode default to the outbox; the Outbox page lists what was sent, names decoded."""
    settings = context.settings(app)
    database = get_database(app)
    make_email_sender(settings, database, clock).send(
        OutgoingEmail(
            to_address="ava@example.com",
            to_name="Ava Ō'Brien-Renée",
            from_address="hi@clinic.example",
            from_name="Clinic",
            subject="Your visit",
            text="See you soon",
            html=None,
        )
    )
    make_sms_provider(settings, database, clock).send(OutgoingSms(to="+61412345678", body="See you soon 😀"))
    make_user(db_session, clock, email="desk@clinic.example")
    db_session.commit()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('"X-CSRFToken": "')[1].split('"')[0]
    client.post("/login", data={"email": "desk@clinic.example", "password": PASSWORD, "csrf_token": token})
    html = client.get("/messages/outbox").get_data(as_text=True)
    assert "Your visit" in html and "Ava Ō&#39;Brien-Renée &lt;ava@example.com&gt;" in html
    assert "=?utf-8?" not in html
    assert "+61412345678" in html and "1 segment" in html
    only_sms = client.get("/messages/outbox?channel=sms", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert "Your visit" not in only_sms and "See you soon 😀" in only_sms
