"""Real worker processes: one killed mid-send, then a restarted one finishes; nobody gets a second copy."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from oncord import context
from oncord.campaigns.sending import LOCK_PREFIX
from oncord.sandbox.holds import Hold
from tests.campaigns.helpers import HoldingSmtpSink, HoldingTwilio, fresh, make_campaign, recipients
from tests.factories import make_contact
from tests.fixtures.messaging import PUBLIC_URL
from tests.fixtures.waiting import wait_until
from tests.fixtures.worker import kill_group

pytestmark = pytest.mark.slow
LOCK_SECONDS = 1
RECIPIENTS = 24
# Six messages go out, the seventh is held while the worker dies.
DELIVERED_BEFORE_KILL = 6


@pytest.fixture
def holding_servers():
    """An SMTP sink and a Twilio stand-in of this test's own; stopping them releases any hold."""
    sink, twilio = HoldingSmtpSink(), HoldingTwilio()
    yield sink, twilio
    sink.stop()
    twilio.stop()


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_worker_killed_mid_send_then_a_restarted_one_finishes_without_doubles(
    messaging_app, db_session, clock, redis_conn, start_campaign, start_worker, run_worker, holding_servers,
    channel,
) -> None:
    """SIGKILL mid-campaign: the next worker resumes; each Subscribed contact gets it at most once, and all
    but at most the one being handed over when the worker died get it (that one is reported as maybe sent)."""
    sink, twilio = holding_servers
    clock.set(datetime.now(UTC))  # the worker processes run on the real clock
    settings = context.settings(messaging_app)
    env = {
        "PUBLIC_BASE_URL": PUBLIC_URL,
        "EMAIL_BACKEND": "smtp",
        "SMTP_HOST": sink.host,
        "SMTP_PORT": str(sink.port),
        "SMTP_TLS": "none",
        "SMS_PROVIDER": "twilio",
        "SMS_FROM": settings.sms_from,
        "TWILIO_ACCOUNT_SID": twilio.account_sid,
        "TWILIO_AUTH_TOKEN": twilio.auth_token,
        "TWILIO_API_BASE_URL": twilio.base_url,
        "CAMPAIGN_LOCK_SECONDS": str(LOCK_SECONDS),
        "CAMPAIGN_BATCH_SIZE": "5",
    }
    wanted = [
        make_contact(
            db_session,
            clock,
            first_name=f"P{i}",
            email=f"p{i}@example.com",
            phone=f"0412 100 {i:03d}",
            email_marketing_status="subscribed",
            sms_marketing_status="subscribed",
        )
        for i in range(RECIPIENTS)
    ]
    make_contact(
        db_session,
        clock,
        email="no@example.com",
        phone="0412 999 999",
        email_marketing_status="pending",
        sms_marketing_status="unsubscribed",
    )
    campaign = make_campaign(db_session, clock, channel=channel)
    db_session.commit()
    addresses = {
        c.id: (c.email if channel == "email" else "+61" + c.phone.replace(" ", "")[1:]) for c in wanted
    }

    def delivered() -> list[str]:
        return (
            [m.rcpt_tos[0] for m in sink.received] if channel == "email" else [s.to for s in twilio.received]
        )

    holds = sink.holds if channel == "email" else twilio.holds
    hold = holds.add(Hold(skip=DELIVERED_BEFORE_KILL, timeout=120))
    start_campaign(campaign.id)
    worker = start_worker(**env)
    assert holds.wait_until_waiting(hold.id, timeout=120), "the worker never reached the seventh message"
    kill_group(worker)
    assert len(delivered()) == DELIVERED_BEFORE_KILL
    holds.release(hold.id)

    lock = f"{LOCK_PREFIX}{campaign.id}"
    wait_until(lambda: not redis_conn.exists(lock), "the dead worker's lock on the campaign to expire")
    finished = run_worker(**env)
    assert finished.returncode == 0, finished.stderr[-3000:]

    copies = Counter(delivered())
    assert max(copies.values()) == 1  # nobody twice
    rows = {r.contact_id: r for r in recipients(db_session, campaign.id)}
    assert set(rows) == set(addresses)  # exactly the Subscribed matching contacts were taken
    in_doubt = {cid for cid, r in rows.items() if r.state == "failed"}
    assert len(in_doubt) <= 1 and all(rows[cid].reason == "outcome_unknown" for cid in in_doubt)
    assert {cid for cid, r in rows.items() if r.state == "sent"} == set(addresses) - in_doubt
    assert set(copies) - {addresses[cid] for cid in in_doubt} == {
        addresses[cid] for cid in set(addresses) - in_doubt
    }
    assert fresh(db_session, campaign.id).state == "sent"
    assert twilio.violations == []
