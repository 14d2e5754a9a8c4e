"""Building a journey in Chromium from a recipe, then watching a contact move through it.

Turn the did-not-arrive recipe on, make it three steps in the builder (remove two, add an e-mail,
move the SMS down), save; then a patient misses an appointment and the dispatcher (run by the test's
worker on its clock, as the journey tests do) moves them through: the counts on the screen follow."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select
from werkzeug.serving import make_server

from oncord.automations.journeys.versions import steps_of
from oncord.models import JourneyVersion
from tests.automations.conftest import connected, dispatch, make_patient, pull, sandbox  # noqa: F401
from tests.automations.test_journeys import miss
from tests.browser.axe import violations
from tests.browser.test_staff_flows import log_in
from tests.factories import make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def journey_server(connected: Flask) -> Iterator[str]:  # noqa: F811
    """The app connected to the sandbox, served over HTTP."""
    server = make_server("127.0.0.1", 0, connected, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def counts(page: Page) -> list[str]:
    """The contacts-at-each-step column of the journey screen."""
    return page.locator("#journey-steps td.num").all_inner_texts()


def test_building_a_three_step_journey_and_watching_a_contact_move_through_it(
    page: Page, journey_server, sandbox, make_patient, pull, dispatch, db_session, clock  # noqa: F811
) -> None:
    make_user(db_session, clock, email="reception@clinic.example")
    db_session.commit()
    chloe = make_patient("Chloe")
    pull()
    log_in(page, journey_server, "reception@clinic.example", "/automations/recipes")
    page.locator("#recipe-did-not-arrive").get_by_role("button", name="Turn on").click()
    expect(page).to_have_url(re.compile(r"/automations/\d+/journey$"))
    builder = page.locator("#journey-builder")
    expect(builder.locator("legend")).to_have_count(4)

    # Remove the condition and the e-mail (steps 3 and 4), with the keyboard for one of them.
    builder.get_by_role("button", name="Remove step 4").click()
    expect(builder.locator("legend")).to_have_count(3)
    builder.get_by_role("button", name="Remove step 3").focus()
    page.keyboard.press("Enter")
    expect(builder.locator("legend")).to_have_count(2)
    expect(page.get_by_text("Not saved yet")).to_be_visible()

    builder.get_by_label("Add a step").select_option(label="Send an e-mail")
    builder.get_by_role("button", name="Add step").click()
    expect(builder.locator("legend").nth(2)).to_contain_text("Step 3: Send an e-mail")
    email = builder.locator("#builder-step-3")
    email.get_by_label("Subject").fill("Still want to come in, {{ first_name }}?")
    email.get_by_label("Message").fill("Book here: {{ book_now_url }}")
    builder.locator("#builder-step-2").get_by_label("Minutes").fill("60")
    builder.get_by_role("button", name="Move down step 1").click()
    expect(builder.locator("legend").nth(0)).to_contain_text("Step 1: Wait")
    expect(builder.locator("legend").nth(1)).to_contain_text("Step 2: Send an SMS")
    assert violations(page) == []
    builder.get_by_role("button", name="Save steps").first.click()
    expect(page.get_by_text("Saved as version 2")).to_be_visible()
    expect(page.locator("#journey-steps tbody tr")).to_have_count(3)
    expect(page.locator("#journey-steps")).to_contain_text("Wait 1 hour")
    db_session.expire_all()
    latest = db_session.scalars(select(JourneyVersion).order_by(JourneyVersion.number.desc())).first()
    kinds = [(s.kind, s.channel) for s in steps_of(latest)]
    assert kinds == [("wait", ""), ("send", "sms"), ("send", "email")]
    assert counts(page) == ["0", "0", "0"]

    # Chloe misses an appointment: she enters and waits at step 1.
    miss(sandbox, clock, chloe)
    pull()
    dispatch()
    page.reload()
    expect(page.locator("#journey-steps td.num").first).to_have_text("1")
    assert counts(page) == ["1", "0", "0"]

    # An hour on, the SMS and the e-mail go and she has finished.
    clock.advance(minutes=61)
    pull()
    dispatch()
    dispatch()
    page.reload()
    expect(page.locator("#journey-ended")).to_contain_text("Finished: 1")
    assert counts(page) == ["0", "0", "0"]
    assert violations(page) == []
