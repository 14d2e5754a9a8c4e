"""The campaign tests' app (real SMTP sink and Twilio stand-in), and starting a campaign as the UI does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from flask import Flask

from oncord import context
from oncord.campaigns import lifecycle
from oncord.db import get_database
from oncord.jobs.enqueue import enqueue_round
from oncord.models import Campaign
from oncord.queue import get_queue
from tests.fixtures.cliniko import connect_to_sandbox, pull_in_process


@pytest.fixture
def start_campaign(messaging_app: Flask) -> Callable[..., Campaign]:
    """Send a campaign now (or schedule it for `when`) and queue its job, as the Send button does."""

    def _start(campaign_id: int, when: datetime | None = None) -> Campaign:
        clock = context.clock(messaging_app)
        with get_database(messaging_app).session() as session:
            campaign = session.get(Campaign, campaign_id)
            assert campaign is not None
            assert lifecycle.schedule(session, campaign, when or clock.now(), clock.now())
            session.commit()
            enqueue_round(get_queue(messaging_app), clock, campaign)
            return campaign

    return _start


@pytest.fixture
def sandbox(sandbox_factory, clock):
    """A Cliniko sandbox on the test's clock with no patients until a test adds them."""
    return sandbox_factory(clock=clock.now, patients=0, appointments=0, rate_limit=None)


@pytest.fixture
def connected(messaging_app: Flask, sandbox) -> Flask:
    """The messaging app connected to the sandbox; Cliniko retries take no time."""
    return connect_to_sandbox(messaging_app, sandbox)


@pytest.fixture
def pull(connected: Flask) -> Callable[[], object]:
    """Run an incremental pull in-process (full the first time)."""
    return lambda: pull_in_process(connected)


@pytest.fixture
def make_patient(sandbox) -> Callable[..., str]:
    """A sandbox patient who accepted e-mail and SMS marketing; returns the Cliniko id."""
    counter = iter(range(1, 1000))

    def _make(first_name: str = "Olivia", *, mobile: str = "0412 345 678") -> str:
        n = next(counter)
        patient_id = sandbox.store.create_patient(
            {
                "first_name": first_name,
                "last_name": f"Campaign{n}",
                "email": f"{first_name.lower()}{n}@example.com",
                "accepted_email_marketing": True,
                "patient_phone_numbers": [{"number": mobile, "phone_type": "Mobile"}],
            }
        )
        sandbox.store.edit_patient(patient_id, accepted_sms_marketing=True)
        return patient_id

    return _make


@pytest.fixture
def staff(messaging_app: Flask, db_session, clock):
    """A test client logged in as a staff member of the messaging app."""
    from tests.factories import make_user
    from tests.web.conftest import log_in

    make_user(db_session, clock, email="reception@clinic.example")
    db_session.commit()
    client = messaging_app.test_client()
    assert log_in(client, "reception@clinic.example").status_code == 303
    return client
