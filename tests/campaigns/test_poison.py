"""One bad template or hostile record fails its own campaign message; every good one goes once."""

from __future__ import annotations

from collections import Counter

from rq.registry import FailedJobRegistry

from oncord.campaigns import lifecycle
from oncord.dashboard.stats import counts
from oncord.jobs.enqueue import enqueue_round
from oncord.queue import get_queue
from tests.campaigns.helpers import fresh, make_campaign, recipients
from tests.factories import make_connection, make_contact

GOOD_BODY = "Hi {{ first_name }},\n\nOur pool reopens on Monday."


def _subscriber(session, clock, name: str, email: str):
    return make_contact(session, clock, first_name=name, last_name="Lee", email=email,
                        email_marketing_status="subscribed", sms_marketing_status="subscribed")


def test_campaigns_with_every_poison_case_send_each_good_message_once_and_fail_each_bad_one(
    messaging_app, db_session, clock, smtp_sink, start_campaign, work_queue
) -> None:
    """Division by zero, include, a bad Book Now link (subdomain), CR/LF in an e-mail, SMTP 550 each
    fail that one message with its reason; a zone that is not real falls back; a CR/LF name is sent
    made safe; every campaign finishes (never "Sending 0%") and good messages go exactly once."""
    make_connection(db_session, clock, subdomain="not a label!", time_zone_identifier="Mars/Olympus_Mons")
    goods = [_subscriber(db_session, clock, f"Good{i}", f"good{i}@example.com") for i in range(4)]
    mallory = _subscriber(db_session, clock, "Mallory\r\nBcc: x@evil.example", "mallory@example.com")
    eve = _subscriber(db_session, clock, "Eve", "eve@example.com\r\nBcc: x@evil.example")
    gone = _subscriber(db_session, clock, "Gone", "gone@example.com")
    smtp_sink.refuse_recipients["gone@example.com"] = "550 5.1.1 No such user here"
    good = make_campaign(db_session, clock, name="Good", email_subject="Pool news", email_body=GOOD_BODY)
    bad = {
        "divides by zero": make_campaign(db_session, clock, name="Zero", email_body="Hi {{ 1/0 }}"),
        "{% include %} is not available": make_campaign(db_session, clock, name="Include",
                                                       email_body="{% include 'x' %}"),
        "Book Now link": make_campaign(db_session, clock, name="Link", email_body="Book: {{ book_now_url }}"),
    }
    db_session.commit()

    for campaign in [good, *bad.values()]:
        start_campaign(campaign.id)
        work_queue()

    assert Counter(m.rcpt_tos for m in smtp_sink.received) == {(c.email,): 1 for c in [*goods, mallory]}
    assert all(m.message["Subject"] == "Pool news" for m in smtp_sink.received)
    mallory_mail = next(m for m in smtp_sink.received if m.rcpt_tos == ("mallory@example.com",))
    assert mallory_mail.message["Bcc"] is None
    assert mallory_mail.message["To"].addresses[0].display_name == "Mallory Bcc: x@evil.example Lee"
    assert mallory_mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    rows = {r.contact_id: r for r in recipients(db_session, good.id)}
    assert {rows[c.id].state for c in [*goods, mallory]} == {"sent"}
    assert (rows[eve.id].state, rows[eve.id].reason, rows[eve.id].error) == (
        "failed", "invalid_address", "invalid e-mail address")
    assert (rows[gone.id].state, rows[gone.id].reason) == ("failed", "refused")
    assert "550" in rows[gone.id].error
    for words, campaign in bad.items():
        for row in recipients(db_session, campaign.id):
            expected = "invalid e-mail address" if row.contact_id == eve.id else words
            assert row.state == "failed" and expected in row.error, (campaign.name, row.error)
    for campaign in [good, *bad.values()]:
        finished = fresh(db_session, campaign.id)
        assert finished.state == "sent" and finished.error is None
    failed = sum(r.state == "failed" for c in [good, *bad.values()] for r in recipients(db_session, c.id))
    assert failed == 2 + 3 * 7 and counts(db_session, clock.now()).failed_week == failed  # the dashboard
    assert get_queue(messaging_app).count == 0


def test_a_campaign_job_that_keeps_failing_is_retried_then_paused_with_why(
    messaging_app, db_session, clock, smtp_sink, start_campaign, work_queue, monkeypatch
) -> None:
    """An unexpected error in the whole run: RQ retries it twice, then the campaign is paused with the
    reason (not "Sending 0%" forever); the messages stay pending and Resume sends them once."""
    people = [_subscriber(db_session, clock, f"P{i}", f"p{i}@example.com") for i in range(3)]
    campaign = make_campaign(db_session, clock, email_body=GOOD_BODY)
    db_session.commit()

    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("the database is on fire")

    monkeypatch.setattr("oncord.campaigns.sending.load_profile", broken)
    start_campaign(campaign.id)
    for _ in range(4):  # the run, then its two retries (released at once)
        work_queue()

    assert len(calls) == 3 and len(FailedJobRegistry(queue=get_queue(messaging_app))) == 1
    paused = fresh(db_session, campaign.id)
    assert paused.state == "paused" and "Something unexpected went wrong" in paused.error
    assert {r.state for r in recipients(db_session, campaign.id)} == {"pending"}
    monkeypatch.undo()
    assert lifecycle.resume(db_session, paused, clock.now())
    db_session.commit()
    enqueue_round(get_queue(messaging_app), clock, paused)
    work_queue()
    assert sorted(m.rcpt_tos[0] for m in smtp_sink.received) == sorted(p.email for p in people)
    assert fresh(db_session, campaign.id).state == "sent"
