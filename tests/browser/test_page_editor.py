"""The page editor in headless Chromium: build a Book Now page with Cliniko's widget and open it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.bookings.samples import CANONICAL, DOCUMENTED_CODE, SRC
from tests.browser.conftest import screenshot
from tests.factories import PASSWORD, make_connection, make_user

pytestmark = pytest.mark.browser

# Stands in for Cliniko's booking page inside the iframe: it asks its parent to resize it, as
# Cliniko's widget does, so the test also proves our static resize listener works under the CSP.
FAKE_CLINIKO = ("<!doctype html><title>Cliniko</title><p id='cliniko-widget'>Cliniko online bookings</p>"
                "<script>parent.postMessage('cliniko-bookings-resize:1500', '*');</script>")


def log_in(page: Page, live_server: str, email: str, path: str) -> None:
    """Log in through the form and land on `path`."""
    page.goto(live_server + path)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(live_server + path)


def test_build_a_booking_page_and_open_it(page: Page, live_server: str, db_session, clock) -> None:
    """Create a page, insert the widget, paste Cliniko's code, apply, save, and see the iframe."""
    make_user(db_session, clock, email="reception@clinic.example")
    make_connection(db_session, clock)
    db_session.commit()
    log_in(page, live_server, "reception@clinic.example", "/pages/")

    page.get_by_role("link", name="New page").click()
    page.get_by_label("Title").fill("Book online")
    page.get_by_label("Address").fill("book-online")
    page.get_by_role("button", name="Create and edit").click()
    expect(page).to_have_url(re.compile(r"/pages/\d+/edit$"))

    # Insert the widget: it appears selected, with its settings open in the sidebar.
    insert = page.get_by_role("toolbar", name="Insert a block")
    insert.get_by_role("button", name="Cliniko booking widget").click()
    widget = page.locator("#blocks > .block-embed")
    expect(widget).to_have_class(re.compile("is-selected"))
    expect(widget).to_contain_text("no code yet")

    # Hostile code is refused in place, with the reason.
    code_box = page.get_by_label("Cliniko's embed code")
    code_box.fill(DOCUMENTED_CODE.replace("<iframe ", "<iframe onload='alert(1)' "))
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#block-settings")).to_contain_text("event handler (onload=…)")
    expect(widget).to_contain_text("no code yet")

    # Cliniko's documented code is accepted; Apply updates the block's preview.
    page.get_by_label("Cliniko's embed code").fill(DOCUMENTED_CODE)
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#block-settings")).to_contain_text("Applied to the preview")
    expect(widget).to_contain_text("books with sunnyside.au1.cliniko.com")
    expect(page.locator("#block-settings textarea")).to_have_value(CANONICAL)

    # Insert a heading (after the selected widget), edit it, then drag it above the widget.
    insert.get_by_role("button", name="Heading").click()
    heading = page.locator("#blocks > .block-heading")
    expect(heading).to_have_class(re.compile("is-selected"))
    page.get_by_role("textbox", name="Heading").fill("Book an appointment")
    page.get_by_role("button", name="Apply").click()
    expect(heading).to_contain_text("Book an appointment")
    expect(page.locator("#blocks > .block").first).to_have_class(re.compile("block-embed"))
    heading.locator(".block-handle").drag_to(widget.locator(".block-handle"))
    expect(page.locator("#blocks > .block").first).to_have_class(re.compile("block-heading"))

    # Selecting a block and choosing Edit opens its settings again.
    widget.get_by_role("button", name="Edit").click()
    expect(page.locator("#block-settings")).to_contain_text("Books with")
    screenshot(page, "page-editor")

    page.get_by_label("Published").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#alerts")).to_contain_text("Saved. The page is live at /book-online")
    expect(page.locator("#blocks > .block")).to_have_count(2)

    # The public page, as an anonymous visitor sees it.
    visitor = page.context.browser.new_context()
    public = visitor.new_page()
    public.route("https://sunnyside.au1.cliniko.com/**",
                 lambda route: route.fulfill(status=200, content_type="text/html", body=FAKE_CLINIKO))
    violations: list[str] = []
    public.on("console", lambda message: violations.append(message.text)
              if "Content Security Policy" in message.text else None)
    response = public.goto(live_server + "/book-online")
    assert response is not None and response.status == 200
    csp = response.headers["content-security-policy"]
    assert "frame-src https://sunnyside.au1.cliniko.com;" in csp and "script-src 'self';" in csp
    iframe = public.locator("iframe.cliniko-bookings")
    expect(iframe).to_have_attribute("src", SRC)
    expect(public.locator("h2.site-heading")).to_have_text("Book an appointment")
    expect(public.frame_locator("iframe.cliniko-bookings").locator("#cliniko-widget")).to_be_visible()
    # Our static listener resized the frame when "Cliniko" asked.
    expect(iframe).to_have_css("height", "1500px")
    assert violations == []
    screenshot(public, "public-book-now")
    visitor.close()
