"""An app connected to a sandbox on the test's clock, a pull, a dispatcher, and patient helpers."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from oncord.clock import FrozenClock
from oncord.jobs.enqueue import DISPATCH_JOB
from oncord.models import Appointment, Contact, SyncRun
from oncord.queue import get_queue
from oncord.sandbox.server import RunningSandbox
from tests.fixtures.cliniko import connect_to_sandbox, pull_in_process


@pytest.fixture
def sandbox(
    request: pytest.FixtureRequest, sandbox_factory: Callable[..., RunningSandbox], clock: FrozenClock
) -> RunningSandbox:
    """A sandbox on the test's clock with a few patients and no appointments until a test books them
    (parametrize indirectly with options to change that, e.g. {"appointments": None} for seeded history)."""
    options = {"patients": 6, "appointments": 0, "rate_limit": None, **getattr(request, "param", {})}
    return sandbox_factory(clock=clock.now, **options)


def default_zone(sandbox: RunningSandbox) -> str:
    """The time zone of the business an appointment gets when the test names no practitioner."""
    catalog = sandbox.store.catalog
    k = next(k for k, row in enumerate(catalog.practitioners.rows) if row["active"])
    return catalog.businesses.rows[catalog.practitioners.rows[k]["business"]]["time_zone_identifier"]


def local_time(zone: str, day: datetime, hour: int, minute: int = 0) -> datetime:
    """The UTC moment of hour:minute on the local calendar day of `day` in `zone`."""
    from datetime import UTC
    from zoneinfo import ZoneInfo

    local = day.astimezone(ZoneInfo(zone)).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return local.astimezone(UTC)


@pytest.fixture
def connected(messaging_app: Flask, sandbox: RunningSandbox) -> Flask:
    """The messaging app connected to the sandbox; Cliniko retries take no time."""
    return connect_to_sandbox(messaging_app, sandbox)


@pytest.fixture
def pull(connected: Flask) -> Callable[[], SyncRun]:
    """Run an incremental pull in-process (full the first time)."""
    return lambda: pull_in_process(connected)


@pytest.fixture
def dispatch(connected: Flask, run_jobs: Callable[[], None]) -> Callable[[], None]:
    """Enqueue a dispatcher job as the schedule would and work the queue (sends included)."""

    def _dispatch() -> None:
        get_queue(connected).enqueue(DISPATCH_JOB, "test")
        run_jobs()

    return _dispatch


@dataclass
class Patient:
    """A sandbox patient the test created, and its contact once pulled."""

    cliniko_id: str
    email: str | None
    mobile: str | None


@pytest.fixture
def make_patient(sandbox: RunningSandbox) -> Callable[..., Patient]:
    """Create a patient in the sandbox with e-mail, mobile and marketing consent as asked."""
    counter = iter(range(1, 10_000))

    def _make(
        first_name: str = "Olivia",
        *,
        email: bool = True,
        mobile: str | None = "0412 345 678",
        email_consent: bool | None = True,
        sms_consent: bool = True,
    ) -> Patient:
        n = next(counter)
        address = f"patient{n}@example.com" if email else None
        fields: dict[str, Any] = {
            "first_name": first_name,
            "last_name": f"Tester{n}",
            "email": address,
            "accepted_email_marketing": email_consent,
            "patient_phone_numbers": [{"number": mobile, "phone_type": "Mobile"}] if mobile else [],
        }
        patient_id = sandbox.store.create_patient(fields)
        sandbox.store.edit_patient(patient_id, accepted_sms_marketing=sms_consent)
        return Patient(patient_id, address, mobile)

    return _make


def contact_of(session: Any, patient: Patient) -> Contact:
    """The contact a pulled patient became."""
    contact = session.scalars(select(Contact).where(Contact.cliniko_patient_id == patient.cliniko_id)).one()
    return contact


def appointment_of(session: Any, cliniko_id: str) -> Appointment:
    """The stored copy of a sandbox appointment."""
    return session.scalars(select(Appointment).where(Appointment.cliniko_id == cliniko_id)).one()


def iso(moment: datetime) -> str:
    """Cliniko's timestamp format."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


_TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')
HTMX = {"HX-Request": "true"}


class Browser:
    """A logged-in test client that sends the CSRF header as htmx does."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def token(self) -> str:
        """The session's CSRF token as a page hands it to htmx."""
        page = self.client.get("/login", follow_redirects=True).get_data(as_text=True)
        match = _TOKEN.search(page)
        assert match, "no CSRF token on the page"
        return match.group(1)

    def get(self, url: str, *, htmx: bool = False, **kwargs: Any) -> Any:
        """GET, as a page load or an htmx request."""
        return self.client.get(url, headers=HTMX if htmx else {}, **kwargs)

    def post(self, url: str, data: Any = None, *, htmx: bool = True, **kwargs: Any) -> Any:
        """POST with the CSRF header (htmx by default)."""
        headers = {"X-CSRFToken": self.token(), **(HTMX if htmx else {})}
        return self.client.post(url, data=data or {}, headers=headers, **kwargs)


def _browser(app: Flask, db_session: Any, clock: FrozenClock, *, admin: bool) -> Browser:
    from tests.factories import PASSWORD, make_user

    email = "owner@clinic.example" if admin else "reception@clinic.example"
    make_user(db_session, clock, email=email, admin=admin)
    db_session.commit()
    client = app.test_client()
    browser = Browser(client)
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": browser.token()}
    )
    assert response.status_code == 303
    return browser


def log_in_staff(app: Flask, db_session: Any, clock: FrozenClock) -> Browser:
    """A staff member logged in now (for a test whose clock has moved past a session's lifetime)."""
    return _browser(app, db_session, clock, admin=False)


@pytest.fixture
def staff(messaging_app: Flask, db_session: Any, clock: FrozenClock) -> Browser:
    """A staff member logged in to the messaging app."""
    return _browser(messaging_app, db_session, clock, admin=False)


@pytest.fixture
def owner(messaging_app: Flask, db_session: Any, clock: FrozenClock) -> Browser:
    """An admin logged in to the messaging app."""
    return _browser(messaging_app, db_session, clock, admin=True)
