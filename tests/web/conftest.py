"""Logged-in test clients and a helper that reads the CSRF token from a page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from oncord import context
from oncord.clock import FrozenClock
from oncord.models import User
from tests.factories import PASSWORD, make_user

_TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')
HTMX = {"HX-Request": "true"}


def csrf_token(client: FlaskClient) -> str:
    """The CSRF token of the client's session, as a page hands it to htmx."""
    page = client.get("/login", follow_redirects=True).get_data(as_text=True)
    match = _TOKEN.search(page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def log_in(client: FlaskClient, email: str, password: str = PASSWORD):
    """Post the login form like a browser would."""
    data = {"email": email, "password": password, "csrf_token": csrf_token(client)}
    return client.post("/login", data=data)


def post(client: FlaskClient, url: str, data: dict | None = None, *, htmx: bool = False, **kwargs):
    """A POST carrying the CSRF token in the X-CSRFToken header, as htmx sends it."""
    headers = {"X-CSRFToken": csrf_token(client), **(HTMX if htmx else {}), **kwargs.pop("headers", {})}
    return client.post(url, data=data or {}, headers=headers, **kwargs)


@pytest.fixture
def staff(db_session: Session, clock: FrozenClock) -> User:
    """A staff user."""
    user = make_user(db_session, clock, email="reception@clinic.example")
    db_session.commit()
    return user


@pytest.fixture
def admin(db_session: Session, clock: FrozenClock) -> User:
    """An admin user."""
    user = make_user(db_session, clock, email="owner@clinic.example", admin=True)
    db_session.commit()
    return user


@pytest.fixture
def staff_client(client: FlaskClient, staff: User) -> FlaskClient:
    """A client logged in as staff."""
    assert log_in(client, staff.email).status_code == 303
    return client


@pytest.fixture
def admin_client(client: FlaskClient, admin: User) -> FlaskClient:
    """A client logged in as an admin."""
    assert log_in(client, admin.email).status_code == 303
    return client


def point_at(app: Flask, base_url: str) -> None:
    """Aim the app's Cliniko client at a URL, with retries that take no time."""
    app.extensions["oncord.settings"] = replace(context.settings(app), cliniko_api_base_url=base_url)
    app.extensions["oncord.cliniko_client_options"] = {"sleep": lambda _seconds: None}


@pytest.fixture
def cliniko(app: Flask) -> Iterator:
    """A small Cliniko sandbox the app talks to over HTTP."""
    from oncord.sandbox.server import start_sandbox

    running = start_sandbox(patients=12, rate_limit=None)
    point_at(app, running.base_url)
    yield running
    running.stop()
