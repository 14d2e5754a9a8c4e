"""The demo's outbox backend: messages are stored and shown, nothing leaves the machine."""

from __future__ import annotations

import re

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


def _staff(app, db_session, clock):
    make_user(db_session, clock, email="desk@clinic.example")
    db_session.commit()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('"X-CSRFToken": "')[1].split('"')[0]
    client.post("/login", data={"email": "desk@clinic.example", "password": PASSWORD, "csrf_token": token})
    return client


def test_links_in_outbox_messages_are_clickable_and_still_escaped(app, db_session, clock) -> None:
    """An unsubscribe or booking address in a message is a link; the rest of the text stays text."""
    sender = make_email_sender(context.settings(app), get_database(app), clock)
    sender.send(OutgoingEmail(
        to_address="ava@example.com", to_name="Ava", from_address="hi@clinic.example", from_name="Clinic",
        subject="Book", text="Book: https://clinic.au1.cliniko.com/bookings?x=1&y=2. <b>Bye</b>", html=None))
    html = _staff(app, db_session, clock).get("/messages/outbox").get_data(as_text=True)
    href = "https://clinic.au1.cliniko.com/bookings?x=1&amp;y=2"
    assert f'<a href="{href}" target="_blank" rel="noopener noreferrer">{href}</a>. &lt;b&gt;Bye' in html
    assert "<b>Bye</b>" not in html


def _older_link(html: str) -> str | None:
    found = re.search(r'<a href="(/messages/outbox\?before=[0-9]+)"[^>]*>Older messages', html)
    return found.group(1) if found else None


def test_the_outbox_pages_back_to_older_messages(app, db_session, clock, monkeypatch) -> None:
    """A page shows the newest messages and links to older ones; the last page links back only."""
    import oncord.web.messaging as messaging_views

    monkeypatch.setattr(messaging_views, "OUTBOX_PAGE", 2)
    provider = make_sms_provider(context.settings(app), get_database(app), clock)
    for number in range(5):
        provider.send(OutgoingSms(to="+61412345678", body=f"Message number {number}"))
    client = _staff(app, db_session, clock)
    pages = [client.get("/messages/outbox").get_data(as_text=True)]
    while (link := _older_link(pages[-1])) is not None:
        pages.append(client.get(link).get_data(as_text=True))
    shown = [re.findall(r"Message number ([0-9])", page) for page in pages]
    assert shown == [["4", "3"], ["2", "1"], ["0"]]
    assert "← Newest" in pages[-1] and "← Newest" not in pages[0]
    assert client.get("/messages/outbox?before=99999999999999999999999").status_code == 200
