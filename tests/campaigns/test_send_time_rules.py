"""Rules that hold while a campaign is going out: the send-time re-check, and Cancel mid-batch."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace

import pytest

from oncord import context
from oncord.contacts.editing import update_contact
from oncord.db import get_database
from oncord.messaging.unsubscribe import make_token
from oncord.models import Contact
from tests.campaigns.helpers import fresh, make_campaign, recipients, states
from tests.factories import make_contact, make_user, staff_actor
from tests.web.conftest import log_in, post


def _subscribers(session, clock, n: int) -> list[Contact]:
    return [make_contact(session, clock, first_name=f"Pat{i}", email=f"pat{i}@example.com",
                         phone=f"0412 000 {i:03d}", email_marketing_status="subscribed",
                         sms_marketing_status="subscribed") for i in range(n)]


def _on_each_email(smtp_sink, monkeypatch, action: Callable[[int], None]) -> None:
    """Run `action(n)` inside the SMTP conversation of the n-th e-mail (1-based), after accepting it:
    the sender is still waiting for the server's reply, so this is "while it is sending"."""
    accept = smtp_sink.handle_DATA
    count = 0

    async def handle_data(server, session, envelope):
        nonlocal count
        reply = await accept(server, session, envelope)
        count += 1
        action(count)
        return reply

    monkeypatch.setattr(smtp_sink, "handle_DATA", handle_data)


def _batch_size(app, n: int) -> None:
    app.extensions["oncord.settings"] = replace(context.settings(app), campaign_batch_size=n)


def test_who_is_no_longer_subscribed_when_their_turn_comes_is_skipped(
    messaging_app, db_session, clock, smtp_sink, start_campaign, work_queue, monkeypatch
) -> None:
    """After the audience was taken: set back to Pending, unsubscribed by link, archived -> skipped, why."""
    _batch_size(messaging_app, 1)
    first, to_pending, to_unsubscribed, to_archived, last = _subscribers(db_session, clock, 5)
    campaign = make_campaign(db_session, clock)
    db_session.commit()
    client = messaging_app.test_client()

    def change_the_others(n: int) -> None:
        if n != 1:
            return
        with get_database(messaging_app).session() as session:
            update_contact(session, session.get(Contact, to_pending.id),
                           {"email_marketing_status": "pending"}, clock=clock, actor=staff_actor())
            session.get(Contact, to_archived.id).archived_at = clock.now()
            session.commit()
        token = make_token(context.settings(messaging_app).secret_key, to_unsubscribed.id, "email")
        assert client.post(f"/u/{token}").status_code == 200

    _on_each_email(smtp_sink, monkeypatch, change_the_others)
    start_campaign(campaign.id)
    work_queue()

    assert [m.rcpt_tos[0] for m in smtp_sink.received] == [first.email, last.email]
    rows = {r.contact_id: (r.state, r.reason) for r in recipients(db_session, campaign.id)}
    assert rows == {
        first.id: ("sent", None),
        to_pending.id: ("skipped", "no_consent"),
        to_unsubscribed.id: ("skipped", "unsubscribed"),
        to_archived.id: ("skipped", "contact_archived"),
        last.id: ("sent", None),
    }


@pytest.mark.parametrize("batch_size", [50, 2])
def test_cancel_while_sending_stops_the_rest_of_the_batch(
    batch_size, messaging_app, db_session, clock, smtp_sink, start_campaign, work_queue, monkeypatch
) -> None:
    """Staff press Cancel while the first e-mail is going out: nothing else is sent, the rest is cancelled."""
    _batch_size(messaging_app, batch_size)
    _subscribers(db_session, clock, 6)
    make_user(db_session, clock, email="owner@clinic.example", admin=True)
    campaign = make_campaign(db_session, clock)
    db_session.commit()
    staff = messaging_app.test_client()
    assert log_in(staff, "owner@clinic.example").status_code == 303

    def press_cancel(n: int) -> None:
        if n == 1:
            assert post(staff, f"/campaigns/{campaign.id}/cancel").status_code in (200, 303)

    _on_each_email(smtp_sink, monkeypatch, press_cancel)
    start_campaign(campaign.id)
    work_queue()
    work_queue()  # a later round finds nothing to send

    assert len(smtp_sink.received) == 1
    assert Counter(states(db_session, campaign.id).values()) == {"sent": 1, "cancelled": 5}
    assert fresh(db_session, campaign.id).state == "cancelled"


def test_who_unsubscribes_while_their_batch_is_going_out_is_not_sent_to(
    messaging_app, db_session, clock, smtp_sink, start_campaign, work_queue, monkeypatch
) -> None:
    """The re-check is per message, not per batch: an unsubscribe during the batch's first e-mail counts."""
    _batch_size(messaging_app, 50)
    contacts = _subscribers(db_session, clock, 4)
    campaign = make_campaign(db_session, clock)
    db_session.commit()
    client = messaging_app.test_client()

    def unsubscribe_the_last(n: int) -> None:
        if n == 1:
            token = make_token(context.settings(messaging_app).secret_key, contacts[3].id, "email")
            assert client.post(f"/u/{token}").status_code == 200

    _on_each_email(smtp_sink, monkeypatch, unsubscribe_the_last)
    start_campaign(campaign.id)
    work_queue()

    assert [m.rcpt_tos[0] for m in smtp_sink.received] == [c.email for c in contacts[:3]]
    rows = {r.contact_id: (r.state, r.reason) for r in recipients(db_session, campaign.id)}
    assert rows[contacts[3].id] == ("skipped", "unsubscribed")
    assert fresh(db_session, campaign.id).state == "sent"
