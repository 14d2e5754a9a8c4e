"""Sending: only Subscribed contacts, each once, in batches that pause, cancel, retry and resume."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select

from oncord import context
from oncord.campaigns import lifecycle
from oncord.campaigns.audience import AppointmentCondition, Audience, Period, breakdown
from oncord.campaigns.sending import start
from oncord.db import get_database
from oncord.jobs.campaign_jobs import campaign_sender
from oncord.jobs.enqueue import enqueue_round
from oncord.messaging.pipeline import Transports
from oncord.messaging.profile import make_email_sender
from oncord.models import ActivityEvent, Campaign, MessagingSettings
from oncord.queue import get_queue, get_redis
from tests.campaigns.helpers import fresh, make_campaign, recipients, states
from tests.factories import make_appointment, make_contact
from tests.fixtures.messaging import PUBLIC_URL, SENDER_EMAIL, SENDER_NAME

MELBOURNE = ZoneInfo("Australia/Melbourne")


def _subscribers(session, clock, n: int, **fields):
    return [
        make_contact(
            session,
            clock,
            first_name=f"Pat{i}",
            last_name="Lee",
            email=f"pat{i}@example.com",
            phone=f"0412 000 {i:03d}",
            email_marketing_status="subscribed",
            sms_marketing_status="subscribed",
            **fields,
        )
        for i in range(n)
    ]


def _batch_size(app, n: int) -> None:
    app.extensions["oncord.settings"] = replace(context.settings(app), campaign_batch_size=n)


def test_email_reaches_each_subscribed_contact_once_with_one_click_unsubscribe(
    messaging_app, db_session, clock, smtp_sink, start_campaign, work_queue
) -> None:
    """Subscribed contacts with an address get it once; pending, unsubscribed, archived, no address: not."""
    wanted = _subscribers(db_session, clock, 3)
    make_contact(db_session, clock, email="pending@example.com", email_marketing_status="pending")
    make_contact(db_session, clock, email="gone@example.com", email_marketing_status="unsubscribed")
    make_contact(db_session, clock, email=" ", email_marketing_status="subscribed")
    make_contact(
        db_session,
        clock,
        email="old@example.com",
        email_marketing_status="subscribed",
        archived_at=clock.now(),
    )
    campaign = make_campaign(db_session, clock)
    db_session.commit()

    start_campaign(campaign.id)
    work_queue()

    received = Counter(m.rcpt_tos[0] for m in smtp_sink.received)
    assert received == {c.email: 1 for c in wanted}
    message = next(m for m in smtp_sink.received if m.rcpt_tos == ("pat0@example.com",))
    assert message.mail_from == SENDER_EMAIL and SENDER_NAME in message.message["From"]
    assert message.message["Subject"] == "Hydrotherapy is back, Pat0"
    assert message.message["List-Unsubscribe"].strip().startswith(f"<{PUBLIC_URL}/u/")
    assert message.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert (
        "Hi Pat0," in message.text() and "12 Beach Road" in message.text() and "Unsubscribe" in message.text()
    )
    assert "<p" in message.html() and "Our pool reopens on Monday." in message.html()
    campaign = fresh(db_session, campaign.id)
    assert (campaign.state, campaign.recipients_total) == ("sent", 3)
    assert set(states(db_session, campaign.id).values()) == {"sent"}
    events = db_session.scalars(select(ActivityEvent).where(ActivityEvent.kind == "email_sent")).all()
    assert sorted(e.contact_id for e in events) == sorted(c.id for c in wanted)
    assert events[0].details["campaign"] == "Hydrotherapy launch" and events[0].details["subject"]

    # The same job again, or a resumed one, sends nothing more.
    enqueue_round(get_queue(messaging_app), clock, campaign)
    get_queue(messaging_app).enqueue("oncord.jobs.campaign_jobs.send_campaign", campaign.id)
    work_queue()
    assert len(smtp_sink.received) == 3


def test_sms_gets_an_opt_out_link_and_landlines_are_left_out(
    messaging_app, db_session, clock, fake_twilio, start_campaign, work_queue
) -> None:
    """Each SMS ends with its opt-out link; a subscribed contact with a landline is left out of the
    audience (its stored mobile flag is false), and the count says why."""
    mobiles = _subscribers(db_session, clock, 2)
    landline = make_contact(db_session, clock, phone="03 9000 0000", sms_marketing_status="subscribed")
    campaign = make_campaign(db_session, clock, channel="sms")
    db_session.commit()

    start_campaign(campaign.id)
    work_queue()

    assert sorted(s.to for s in fake_twilio.received) == ["+61412000000", "+61412000001"]
    assert fake_twilio.violations == []
    body = fake_twilio.received[0].body
    assert body.startswith("Hi Pat") and "\nOpt out: " + PUBLIC_URL + "/u/" in body
    rows = {r.contact_id: r for r in recipients(db_session, campaign.id)}
    assert landline.id not in rows
    counts = breakdown(db_session, Audience(), "sms", clock.now(), "Australia/Melbourne")
    assert (counts.receive, counts.excluded.get("no_mobile")) == (2, 1)
    assert {rows[c.id].state for c in mobiles} == {"sent"}
    assert fresh(db_session, campaign.id).state == "sent"


def test_consent_is_checked_again_just_before_sending(
    messaging_app, db_session, clock, smtp_sink, work_queue
) -> None:
    """Someone who unsubscribes after the audience was taken is skipped, not sent to."""
    first, second = _subscribers(db_session, clock, 2)
    campaign = make_campaign(db_session, clock)
    db_session.commit()
    assert lifecycle.schedule(db_session, campaign, clock.now(), clock.now())
    assert start(db_session, campaign, clock.now(), "Australia/Melbourne") == 2
    second.email_marketing_status = "unsubscribed"
    db_session.commit()

    enqueue_round(get_queue(messaging_app), clock, campaign)
    work_queue()

    assert [m.rcpt_tos[0] for m in smtp_sink.received] == [first.email]
    rows = {r.contact_id: r for r in recipients(db_session, campaign.id)}
    assert (rows[second.id].state, rows[second.id].reason) == ("skipped", "unsubscribed")


class _PausingSender:
    """The SMTP sender, and staff pressing Pause (in their own transaction) after the third e-mail."""

    def __init__(self, inner, app, campaign_id: int) -> None:
        self.inner, self.app, self.campaign_id, self.sent = inner, app, campaign_id, 0

    def send(self, email):
        """Send, and press Pause after the third."""
        result = self.inner.send(email)
        self.sent += 1
        if self.sent == 3:
            with get_database(self.app).session() as session:
                campaign = session.get(Campaign, self.campaign_id)
                assert lifecycle.pause(session, campaign, context.clock(self.app).now())
                session.commit()
        return result

    def close(self) -> None:
        """Close the SMTP connection."""
        self.inner.close()


def test_pause_takes_effect_between_batches_and_resume_sends_the_rest_once(
    messaging_app, db_session, clock, smtp_sink, start_campaign, work_queue
) -> None:
    """Paused mid-batch, the batch finishes and sending stops; Resume sends only those not yet sent."""
    _batch_size(messaging_app, 2)
    contacts = _subscribers(db_session, clock, 7)
    campaign = make_campaign(db_session, clock)
    db_session.commit()
    assert lifecycle.schedule(db_session, campaign, clock.now(), clock.now())
    db_session.commit()
    sender = campaign_sender(messaging_app, worker_id="test")
    app_settings, database = context.settings(messaging_app), get_database(messaging_app)
    sender.transports = Transports(
        make_email=lambda: _PausingSender(
            make_email_sender(app_settings, database, clock), messaging_app, campaign.id
        ),
        make_sms=lambda: None,
    )  # type: ignore[arg-type,return-value]

    result = sender.run(campaign.id)

    assert result.outcome == "campaign is paused" and result.sent == 4  # the second batch finished
    assert Counter(states(db_session, campaign.id).values()) == {"sent": 4, "pending": 3}
    campaign = fresh(db_session, campaign.id)
    assert lifecycle.resume(db_session, campaign, clock.now())
    db_session.commit()
    enqueue_round(get_queue(messaging_app), clock, campaign)
    work_queue()
    assert Counter(m.rcpt_tos[0] for m in smtp_sink.received) == {c.email: 1 for c in contacts}
    assert fresh(db_session, campaign.id).state == "sent"


def test_cancel_stops_and_marks_the_rest_not_sent(
    messaging_app, db_session, clock, smtp_sink, work_queue
) -> None:
    """Cancelling a paused campaign leaves what was sent and cancels the rest; a later job sends nothing."""
    _subscribers(db_session, clock, 4)
    campaign = make_campaign(db_session, clock)
    db_session.commit()
    assert lifecycle.schedule(db_session, campaign, clock.now(), clock.now())
    start(db_session, campaign, clock.now(), "Australia/Melbourne")
    first = recipients(db_session, campaign.id)[0]
    first.state, first.sent_at = "sent", clock.now()
    assert lifecycle.pause(db_session, campaign, clock.now())
    assert lifecycle.cancel(db_session, campaign, clock.now())
    db_session.commit()
    get_queue(messaging_app).enqueue("oncord.jobs.campaign_jobs.send_campaign", campaign.id)
    work_queue()
    assert smtp_sink.received == []
    assert Counter(states(db_session, campaign.id).values()) == {"sent": 1, "cancelled": 3}
    assert fresh(db_session, campaign.id).state == "cancelled"


def test_a_message_a_dead_worker_claimed_is_never_sent_again(
    messaging_app, db_session, clock, smtp_sink, work_queue
) -> None:
    """A row left "sending" by a killed worker is reported as maybe sent; everyone else gets theirs."""
    contacts = _subscribers(db_session, clock, 3)
    campaign = make_campaign(db_session, clock)
    db_session.commit()
    assert lifecycle.schedule(db_session, campaign, clock.now(), clock.now())
    start(db_session, campaign, clock.now(), "Australia/Melbourne")
    stray = recipients(db_session, campaign.id)[1]
    stray.state, stray.claimed_by, stray.attempts = "sending", "a-dead-worker", 1
    db_session.commit()

    get_queue(messaging_app).enqueue("oncord.jobs.campaign_jobs.send_campaign", campaign.id)
    work_queue()

    assert sorted(m.rcpt_tos[0] for m in smtp_sink.received) == sorted(
        c.email for c in contacts if c.id != stray.contact_id
    )
    rows = {r.contact_id: r for r in recipients(db_session, campaign.id)}
    assert (rows[stray.contact_id].state, rows[stray.contact_id].reason) == ("failed", "outcome_unknown")
    failed = db_session.scalars(select(ActivityEvent).where(ActivityEvent.kind == "message_failed")).one()
    assert failed.contact_id == stray.contact_id
    assert "may or may not have been delivered" in failed.details["error"]


def test_temporary_failures_wait_and_retry_permanent_ones_are_reported(
    messaging_app, db_session, clock, smtp_sink, start_campaign, work_queue
) -> None:
    """A 4xx reply is retried a minute later (once); a 5xx reply fails with the server's words."""
    contacts = _subscribers(db_session, clock, 3)
    campaign = make_campaign(db_session, clock)
    db_session.commit()
    smtp_sink.refuse[:] = ["451 4.3.0 Try again later", "550 5.1.1 No such mailbox"]

    start_campaign(campaign.id)
    work_queue()
    rows = {r.contact_id: r for r in recipients(db_session, campaign.id)}
    assert rows[contacts[0].id].state == "pending" and rows[contacts[0].id].next_attempt_at is not None
    assert (rows[contacts[1].id].state, rows[contacts[1].id].reason) == ("failed", "refused")
    assert "No such mailbox" in rows[contacts[1].id].error
    assert rows[contacts[2].id].state == "sent"
    campaign = fresh(db_session, campaign.id)
    assert campaign.state == "sending" and campaign.waiting_until == rows[contacts[0].id].next_attempt_at

    work_queue()  # woken early: the retry is not due yet
    assert len(smtp_sink.received) == 1
    clock.advance(minutes=1, seconds=1)
    work_queue()
    assert sorted(m.rcpt_tos[0] for m in smtp_sink.received) == [contacts[0].email, contacts[2].email]
    assert fresh(db_session, campaign.id).state == "sent"


def test_without_a_sender_address_the_campaign_pauses_and_says_why(
    messaging_app, db_session, clock, smtp_sink, start_campaign, work_queue
) -> None:
    """Nothing is sent and nothing is lost: the campaign pauses with a message staff can act on."""
    _subscribers(db_session, clock, 2)
    campaign = make_campaign(db_session, clock)
    db_session.execute(delete(MessagingSettings))
    db_session.commit()

    start_campaign(campaign.id)
    work_queue()

    campaign = fresh(db_session, campaign.id)
    assert campaign.state == "paused" and "Settings → Messaging" in campaign.error
    assert smtp_sink.received == [] and set(states(db_session, campaign.id).values()) == {"pending"}


def test_a_scheduled_campaign_goes_at_its_clinic_time_with_the_audience_of_that_moment(
    messaging_app, db_session, clock, smtp_sink, start_campaign, work_queue
) -> None:
    """Scheduled for 9:00 tomorrow in Melbourne: nothing before, then everyone matching at 9:00."""
    early = _subscribers(db_session, clock, 1)[0]
    week = Audience((AppointmentCondition(period=Period("next_days", days=7)),))
    make_appointment(db_session, early, clock.now() + timedelta(days=2))
    campaign = make_campaign(db_session, clock, week)
    db_session.commit()
    local_now = clock.now().astimezone(MELBOURNE)
    nine = datetime.combine(
        local_now.date() + timedelta(days=1), datetime.min.time().replace(hour=9), tzinfo=MELBOURNE
    ).astimezone(UTC)

    start_campaign(campaign.id, nine)
    queue = get_queue(messaging_app)
    scheduled = queue.scheduled_job_registry
    (job_id,) = scheduled.get_job_ids()
    assert job_id == fresh(db_session, campaign.id).job_id
    delay = scheduled.get_scheduled_time(job_id).replace(tzinfo=UTC) - datetime.now(UTC)
    assert abs(delay - (nine - clock.now())) < timedelta(seconds=10)

    work_queue()  # released early (the clock says 10:00 today): it waits for 9:00
    assert smtp_sink.received == []
    late = make_contact(db_session, clock, email="late@example.com", email_marketing_status="subscribed")
    make_appointment(db_session, late, clock.now() + timedelta(days=3))
    db_session.commit()
    clock.set(nine + timedelta(seconds=5))
    work_queue()
    assert sorted(m.rcpt_tos[0] for m in smtp_sink.received) == sorted([early.email, late.email])


def test_quiet_hours_hold_sms_until_they_end(
    messaging_app, db_session, clock, fake_twilio, start_campaign, work_queue
) -> None:
    """Started at 22:00 with SMS quiet from 20:00 to 08:00, the campaign waits for 08:00 local time."""
    _subscribers(db_session, clock, 2)
    db_session.get(MessagingSettings, 1).sms_quiet_start = 20 * 60
    db_session.get(MessagingSettings, 1).sms_quiet_end = 8 * 60
    db_session.get(MessagingSettings, 1).sms_quiet_off = False
    campaign = make_campaign(db_session, clock, channel="sms")
    db_session.commit()
    evening = clock.now().astimezone(MELBOURNE).replace(hour=22, minute=0)
    clock.set(evening)

    start_campaign(campaign.id)
    work_queue()
    campaign = fresh(db_session, campaign.id)
    morning = (evening + timedelta(days=1)).replace(hour=8).astimezone(UTC)
    assert fake_twilio.received == [] and campaign.waiting_until == morning

    clock.set(morning + timedelta(seconds=1))
    work_queue()
    assert len(fake_twilio.received) == 2


def test_a_second_sender_stands_aside_while_one_holds_the_campaign(
    messaging_app, db_session, clock, smtp_sink, start_campaign, work_queue
) -> None:
    """With another worker's lock on the campaign, a job sends nothing and looks again after it expires."""
    _subscribers(db_session, clock, 2)
    campaign = make_campaign(db_session, clock)
    db_session.commit()
    lock = get_redis(messaging_app).lock(f"oncord:lock:campaign:{campaign.id}", timeout=30)
    assert lock.acquire(blocking=False)

    start_campaign(campaign.id)
    work_queue(release=False)
    assert smtp_sink.received == []
    wake = get_queue(messaging_app).scheduled_job_registry.get_job_ids()
    assert len(wake) == 1 and "-lock-" in wake[0]

    lock.release()
    work_queue()
    assert len(smtp_sink.received) == 2
