"""Sync you can read: the last read and the last push shown apart, with what each really did."""

from __future__ import annotations

import re

import pytest

from oncord.jobs.sync_jobs import run_push
from tests.factories import make_user
from tests.sync.test_push import _edit, _linked
from tests.web.conftest import log_in


@pytest.fixture
def admin_browser(connected_app, db_session, clock):
    """A logged-in admin on the connected app."""
    user = make_user(db_session, clock, email="owner@clinic.example", admin=True)
    db_session.commit()
    browser = connected_app.test_client()
    assert log_in(browser, user.email).status_code == 303
    return browser


def _part(body: str, which: str) -> str:
    match = re.search(rf'data-last="{which}">(.*?)</section>', body, re.S)
    assert match, f"no last-{which} part on the page"
    return match.group(1)


def test_a_push_shows_what_it_sent_apart_from_the_last_read(
    connected_app, pull, db_session, clock, admin_browser
) -> None:
    """Two fields of one patient pushed: "Sent 2 fields for 1 patient", not "No changes"."""
    pull()
    (contact,) = _linked(db_session, 1)
    _edit(connected_app, db_session, contact, first_name="Annabel", city="Fitzroy")
    clock.advance(minutes=3)
    assert run_push(connected_app) == "pushed"
    for page in ("/", "/settings/integrations"):
        body = admin_browser.get(page).get_data(as_text=True)
        assert "Sent 2 fields for 1 patient to Cliniko" in _part(body, "push")
        read = _part(body, "read")
        assert "Last read from Cliniko" in read and "Patients:" in read and "Sent" not in read


def test_a_pull_that_changed_nothing_says_so(connected_app, pull, sandbox, admin_browser, clock) -> None:
    """Reading the same lists again counts nothing as updated, and the screen says nothing changed."""
    pull()
    clock.advance(minutes=10)
    again = pull()
    assert all(not tally.get("updated") and not tally.get("created") for tally in again.counts.values())
    assert again.counts["businesses"]["unchanged"] == again.counts["businesses"]["fetched"] > 0
    body = admin_browser.get("/").get_data(as_text=True)
    read = _part(body, "read")
    assert "Nothing had changed in Cliniko" in read and "updated" not in read
    # An edit in Cliniko then counts as exactly one update.
    patient_id = _linked_patient(connected_app)
    clock.advance(minutes=1)
    sandbox.store.edit_patient(patient_id, first_name="Changed")
    third = pull()
    assert third.counts["patients"]["updated"] == 1
    assert "Patients: 1 read, 1 updated" in _part(admin_browser.get("/").get_data(as_text=True), "read")


def _linked_patient(app) -> str:
    from oncord.db import get_database

    with get_database(app).session() as session:
        (contact,) = _linked(session, 1)
        assert contact.cliniko_patient_id is not None
        return contact.cliniko_patient_id


def test_the_integrations_screen_shows_the_shared_budget_use(
    connected_app, pull, sandbox, admin_browser
) -> None:
    """The budget line counts every request this key sent in the window, whichever process sent it."""
    pull()
    body = admin_browser.get("/settings/integrations").get_data(as_text=True)
    match = re.search(r'id="request-budget" data-used="(\d+)" data-limit="(\d+)"', body)
    assert match, "no budget line"
    assert int(match.group(1)) == sandbox.store.request_count > 0
    assert int(match.group(2)) == 190
