"""Real worker processes: one killed mid-send, then a restarted one finishes; nobody gets a second copy."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime

import pytest

from oncord import context
from tests.campaigns.helpers import SlowSmtpSink, SlowTwilio, fresh, make_campaign, recipients
from tests.factories import make_contact
from tests.fixtures.messaging import PUBLIC_URL
from tests.fixtures.worker import kill_group

pytestmark = pytest.mark.slow
LOCK_SECONDS = 1
RECIPIENTS = 24


@pytest.fixture
def slow_servers():
    """An SMTP sink and a Twilio stand-in of this test's own."""
    sink, twilio = SlowSmtpSink(0.04), SlowTwilio(delay=0.04)
    yield sink, twilio
    sink.stop()
    twilio.stop()


def _wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_worker_killed_mid_send_then_a_restarted_one_finishes_without_doubles(
    messaging_app, db_session, clock, start_campaign, start_worker, run_worker, slow_servers, channel
) -> None:
    """SIGKILL mid-campaign: the next worker resumes; each Subscribed contact gets it at most once, and all
    but at most the one being handed over when the worker died get it (that one is reported as maybe sent)."""
    sink, twilio = slow_servers
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

    start_campaign(campaign.id)
    worker = start_worker(**env)
    _wait_for(lambda: len(delivered()) >= 6)
    kill_group(worker)
    before = len(delivered())
    assert before < RECIPIENTS

    time.sleep(LOCK_SECONDS + 0.5)  # the dead worker's lock on the campaign expires
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
