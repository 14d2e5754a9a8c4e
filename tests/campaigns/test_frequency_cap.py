"""The frequency cap: marketing over the cap is skipped ("frequency cap"); reminders never count."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from oncord.db import get_database
from oncord.messaging.frequency import FrequencyCap, release_slot, take_slot
from oncord.models import FrequencySlot, MessagingSettings
from tests.campaigns.helpers import make_campaign, recipients
from tests.factories import make_contact


def _cap(session, messages: int, days: int) -> None:
    row = session.get(MessagingSettings, 1)
    row.frequency_cap_messages, row.frequency_cap_days = messages, days
    session.commit()


def test_campaigns_over_the_cap_are_skipped_and_the_window_rolls(
    messaging_app, db_session, clock, smtp_sink, start_campaign, work_queue
) -> None:
    """Cap 2 per 7 days: the third campaign in the week is skipped; a failed one does not count;
    a week later there is room again."""
    _cap(db_session, 2, 7)
    ada = make_contact(db_session, clock, first_name="Ada", email="ada@example.com",
                       email_marketing_status="subscribed")
    gone = make_contact(db_session, clock, first_name="Gone", email="gone@example.com",
                        email_marketing_status="subscribed")
    smtp_sink.refuse_recipients["gone@example.com"] = "550 5.1.1 No such user"
    campaigns = [make_campaign(db_session, clock, name=f"C{i}") for i in range(4)]
    db_session.commit()

    for campaign in campaigns[:3]:
        start_campaign(campaign.id)
        work_queue()
        clock.advance(hours=1)

    states = [{r.contact_id: (r.state, r.reason) for r in recipients(db_session, c.id)}
              for c in campaigns[:3]]
    assert [s[ada.id] for s in states] == [("sent", None), ("sent", None), ("skipped", "frequency_cap")]
    assert [s[gone.id][0] for s in states] == ["failed", "failed", "failed"]  # never sent: never capped
    assert [m.rcpt_tos for m in smtp_sink.received] == [("ada@example.com",)] * 2

    clock.advance(days=7)
    start_campaign(campaigns[3].id)
    work_queue()
    assert {r.contact_id: r.state for r in recipients(db_session, campaigns[3].id)}[ada.id] == "sent"


def test_two_workers_taking_slots_at_once_never_exceed_the_cap(messaging_app, db_session, clock) -> None:
    """Eight threads race for a contact's 3 slots: exactly 3 win, enforced by the database."""
    contact = make_contact(db_session, clock, email="ada@example.com")
    db_session.commit()
    cap = FrequencyCap(3, timedelta(days=7))
    database = get_database(messaging_app)
    barrier = threading.Barrier(8)
    wins: list[bool] = []
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            with database.session() as session:
                barrier.wait()
                won = take_slot(session, cap, contact.id, f"test:{n}", clock.now())
                session.commit()
                wins.append(won)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] or all("locked" in str(e) for e in errors), errors
    assert sum(wins) == 3
    assert len(db_session.scalars(select(FrequencySlot)).all()) == 3
    with database.session() as session:
        release_slot(session, next(s.reference for s in session.scalars(select(FrequencySlot))))
        assert take_slot(session, cap, contact.id, "test:again", clock.now())
        assert not take_slot(session, cap, contact.id, "test:over", clock.now())


def test_the_audience_preview_counts_who_is_at_the_cap(staff, messaging_app, db_session, clock) -> None:
    """With the cap on, the editor's live count says how many would be skipped by it right now."""
    from oncord.campaigns.audience import Audience, recipients_query
    from oncord.messaging.frequency import capped_count
    from tests.web.conftest import post

    _cap(db_session, 1, 7)
    full = make_contact(db_session, clock, email="full@example.com", email_marketing_status="subscribed")
    make_contact(db_session, clock, email="free@example.com", email_marketing_status="subscribed")
    db_session.commit()
    assert take_slot(db_session, FrequencyCap(1, timedelta(days=7)), full.id, "test:1", clock.now())
    db_session.commit()
    query = recipients_query(Audience(), "email", clock.now(), "Australia/Melbourne")
    assert capped_count(db_session, FrequencyCap(1, timedelta(days=7)), query, clock.now()) == 1
    page = post(staff, "/campaigns/audience", {"name": "x", "channel": "email"}, htmx=True)
    assert 'data-frequency-cap="1"' in page.text and "at most 1 marketing messages" in page.text
