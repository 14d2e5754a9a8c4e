"""The booking widget in the page editor (headless Chromium): dragged from Insert or inserted by
keyboard, any realistic copy of Cliniko's code accepted as the one canonical iframe, hostile ones refused."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.bookings.samples import (
    CANONICAL,
    CANONICAL_WITH_PAYMENT,
    DOCUMENTED_CODE,
    PAYMENT_VARIANT,
    VARIANTS,
)
from tests.browser.test_page_editor import log_in
from tests.factories import make_connection, make_user

pytestmark = pytest.mark.browser

OTHER_CLINIC = DOCUMENTED_CODE.replace("sunnyside.au1", "rival.au2")
HOSTILE = {
    "javascript-url": (DOCUMENTED_CODE.replace("https://sunnyside.au1.cliniko.com/bookings?embedded=true",
                                               "javascript:alert(1)"), "javascript:"),
    "other-host": (DOCUMENTED_CODE.replace("sunnyside.au1.cliniko.com", "evil.example.com"),
                   "not a Cliniko bookings host"),
    "another-clinic": (OTHER_CLINIC, "your clinic books at sunnyside.au1.cliniko.com"),
    "onload": (DOCUMENTED_CODE.replace("<iframe ", "<iframe onload='alert(1)' "), "event handler (onload=…)"),
    "srcdoc": (DOCUMENTED_CODE.replace("<iframe ", "<iframe srcdoc='<script>alert(1)</script>' "), "srcdoc"),
    "data-url": ("<div><iframe src='data:text/html,<script>alert(1)</script>'></iframe></div>", "data:"),
    "no-iframe": ("<div class='booking'>Book online</div>", "no Cliniko booking iframe"),
}


def open_new_page(page: Page, live_server: str, db_session, clock) -> None:
    """A receptionist, a connected Sunnyside account, and a new page open in the editor."""
    make_user(db_session, clock, email="reception@clinic.example")
    make_connection(db_session, clock)
    db_session.commit()
    log_in(page, live_server, "reception@clinic.example", "/pages/new")
    page.get_by_label("Title").fill("Book online")
    page.get_by_label("Address").fill("book-online")
    page.get_by_role("button", name="Create and edit").click()
    expect(page).to_have_url(re.compile(r"/pages/\d+/edit$"))


def apply_code(page: Page, code: str) -> None:
    """Paste code into the selected widget's settings and Apply."""
    page.get_by_label("Cliniko's embed code").fill(code)
    page.get_by_role("button", name="Apply").click()


def test_drag_the_widget_from_insert_and_paste_any_copy_of_clinikos_code(
    page: Page, live_server: str, db_session, clock
) -> None:
    """Dropped above a heading, the widget lands there; each variant becomes the canonical iframe."""
    open_new_page(page, live_server, db_session, clock)
    insert = page.get_by_role("toolbar", name="Insert a block")
    insert.get_by_role("button", name="Heading").click()
    heading = page.locator("#blocks > .block-heading")
    expect(heading).to_have_class(re.compile("is-selected"))

    palette_button = insert.get_by_role("button", name="Cliniko booking widget")
    palette_button.drag_to(heading, target_position={"x": 40, "y": 4})
    widget = page.locator("#blocks > .block-embed")
    expect(widget).to_have_class(re.compile("is-selected"))
    expect(page.locator("#blocks > *")).to_have_count(2)
    expect(page.locator("#blocks > .block").first).to_have_class(re.compile("block-embed"))
    expect(widget).to_contain_text("no code yet")
    # The palette still works by click after a drag (its button is the original, not a copy).
    expect(insert.get_by_role("button")).to_have_count(4)

    code_box = page.locator("#block-settings textarea")
    for name, code in [*VARIANTS.items(), ("payment", PAYMENT_VARIANT)]:
        apply_code(page, code)
        expected = CANONICAL_WITH_PAYMENT if name == "payment" else CANONICAL
        expect(code_box, name).to_have_value(expected)
        expect(page.locator("#block-settings .applied-note"), name).to_contain_text(
            "Kept Cliniko's booking widget for sunnyside.au1.cliniko.com")
    expect(widget).to_contain_text("online payments allowed")

    for name, (code, reason) in HOSTILE.items():
        apply_code(page, code)
        expect(page.locator("#block-settings"), name).to_contain_text(reason)
        expect(page.locator("#block-settings"), name).to_contain_text("Settings → Online bookings")
        expect(widget, name).to_contain_text("online payments allowed")  # the last good code stays

    page.get_by_label("Published").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#alerts")).to_contain_text("Saved. The page is live at /book-online")

    visitor = page.context.browser.new_context()
    public = visitor.new_page()
    public.route("https://sunnyside.au1.cliniko.com/**",
                 lambda route: route.fulfill(status=200, content_type="text/html", body="<p>Cliniko</p>"))
    public.goto(live_server + "/book-online")
    frames = public.locator("iframe")
    expect(frames).to_have_count(1)
    assert frames.evaluate("frame => frame.outerHTML") == CANONICAL_WITH_PAYMENT
    # As wide as the page by CSS, with no width attribute.
    width = frames.evaluate("frame => frame.getBoundingClientRect().width")
    main = public.locator("main").evaluate("main => main.clientWidth")
    assert width > main * 0.8
    visitor.close()


def test_insert_works_without_a_mouse(page: Page, live_server: str, db_session, clock) -> None:
    """Tab to Insert, Enter, type the code, Tab to Apply, Enter: the widget is in, never a click."""
    open_new_page(page, live_server, db_session, clock)
    embed_button = page.get_by_role("toolbar", name="Insert a block").get_by_role(
        "button", name="Cliniko booking widget")
    for _ in range(80):
        if embed_button.evaluate("button => button === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(embed_button).to_be_focused()
    page.keyboard.press("Enter")

    widget = page.locator("#blocks > .block-embed")
    expect(widget).to_have_class(re.compile("is-selected"))
    code_box = page.get_by_label("Cliniko's embed code")
    expect(code_box).to_be_focused()
    page.keyboard.insert_text(VARIANTS["wrapped-in-a-div"])
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Apply")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#block-settings .applied-note")).to_contain_text(
        "left out the <script> and <div>")
    expect(widget).to_contain_text("books with sunnyside.au1.cliniko.com")
    expect(page.locator("#block-settings textarea")).to_have_value(CANONICAL)
