"""The campaign tests' app (real SMTP sink and Twilio stand-in) on an empty sandbox, and starting
a campaign as the UI does."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from oncord import context
from oncord.campaigns import lifecycle
from oncord.db import Base, get_database
from oncord.jobs.enqueue import enqueue_round
from oncord.models import Campaign
from oncord.queue import get_queue
from tests.fixtures.empty_sandbox import (  # noqa: F401 (fixtures)
    client_as,
    connected,
    make_patient,
    pull,
    sandbox,
)


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
def staff(messaging_app: Flask, db_session, clock) -> FlaskClient:
    """A test client logged in as a staff member of the messaging app."""
    return client_as(messaging_app, db_session, clock, "reception@clinic.example", is_admin=False)


@pytest.fixture
def session() -> Iterator[Session]:
    """A session on a fresh in-memory SQLite database with every table (no app, no Redis): the
    rule checks of sending and lifecycle."""
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    Base.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:  # as oncord.db.Database does
        yield session
    engine.dispose()
