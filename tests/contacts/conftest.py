"""The consent tests' app: the messaging app (Twilio's signed webhook works) on a Cliniko sandbox."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from oncord import context
from tests.factories import make_user
from tests.fixtures.cliniko import connect_to_sandbox, pull_in_process
from tests.web.conftest import admin, admin_client, log_in, staff, staff_client  # noqa: F401 (fixtures)


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
def push(connected: Flask, clock, work_queue) -> Callable[[], None]:
    """Let the push's debounce pass and run what RQ's scheduler would."""

    def _push() -> None:
        clock.advance(seconds=context.settings(connected).sync_push_delay_seconds + 1)
        work_queue()

    return _push


@pytest.fixture
def make_patient(sandbox) -> Callable[..., str]:
    """A sandbox patient with these marketing flags; returns the Cliniko id."""
    counter = iter(range(1, 1000))

    def _make(first_name: str = "Olivia", *, email: bool = True, sms: bool = True,
              mobile: str = "0412 345 678") -> str:
        n = next(counter)
        patient_id = sandbox.store.create_patient({
            "first_name": first_name, "last_name": f"Ledger{n}",
            "email": f"{first_name.lower()}{n}@example.com",
            "accepted_email_marketing": email,
            "patient_phone_numbers": [{"number": mobile, "phone_type": "Mobile"}],
        })
        # Cliniko's API takes no SMS opt-in; the sandbox sets it as staff would in Cliniko.
        sandbox.store.edit_patient(patient_id, accepted_sms_marketing=sms)
        return patient_id

    return _make


def _client_as(app: Flask, session, clock, email: str, *, is_admin: bool) -> FlaskClient:
    make_user(session, clock, email=email, admin=is_admin)
    session.commit()
    client = app.test_client()
    assert log_in(client, email).status_code == 303
    return client


@pytest.fixture
def reception(messaging_app: Flask, db_session, clock) -> FlaskClient:
    """A test client logged in as a staff member (not an admin)."""
    return _client_as(messaging_app, db_session, clock, "reception@clinic.example", is_admin=False)


@pytest.fixture
def owner(messaging_app: Flask, db_session, clock) -> FlaskClient:
    """A test client logged in as the clinic's admin."""
    return _client_as(messaging_app, db_session, clock, "owner@clinic.example", is_admin=True)
