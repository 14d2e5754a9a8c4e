"""Every staff screen fits a phone (390 px) and 400 % zoom (320 px) without sideways scrolling."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.staff_pages import ADMIN, seed_every_screen
from tests.browser.test_staff_flows import log_in

pytestmark = pytest.mark.browser

OVERFLOW = """() => {
  const width = window.innerWidth;
  if (document.documentElement.scrollWidth <= width) return null;
  const wide = [...document.querySelectorAll("body *")]
    .filter(el => el.getBoundingClientRect().right > width + 1)
    .map(el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
               + (typeof el.className === "string" && el.className ? "." + el.className.trim() : ""));
  return document.documentElement.scrollWidth + " px: " + wide.slice(0, 6).join(", ");
}"""


@pytest.mark.parametrize("width", [390, 320])
def test_every_staff_screen_fits_a_phone(page: Page, live_server, db_session, clock, width) -> None:
    """At 390 and 320 px no staff screen scrolls sideways; the widest elements are named if one does."""
    screens = seed_every_screen(db_session, clock)
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, live_server, ADMIN)
    overflowing = {}
    for name, path in screens.items():
        response = page.goto(live_server + path)
        assert response is not None and response.ok, f"{name}: {path} answered {response and response.status}"
        page.wait_for_load_state("networkidle")
        where = page.evaluate(OVERFLOW)
        if where:
            overflowing[name] = where
    assert not overflowing, overflowing


def test_the_menu_collapses_on_a_phone_and_opens_with_the_keyboard(
    page: Page, live_server, db_session, clock
) -> None:
    """On a phone the main navigation hides behind a Menu button that opens and closes it."""
    seed_every_screen(db_session, clock)
    page.set_viewport_size({"width": 390, "height": 800})
    log_in(page, live_server, ADMIN)
    nav = page.get_by_role("navigation", name="Main")
    menu = page.get_by_role("button", name="Menu")
    expect(nav.get_by_role("link", name="Contacts")).to_be_hidden()
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link", name="Contacts")).to_be_visible()
    screenshot(page, "phone-menu")
    page.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav.get_by_role("link", name="Contacts")).to_be_hidden()
    page.goto(live_server + "/contacts")
    screenshot(page, "contacts-phone")


def test_the_menu_button_is_absent_at_desktop_width(page: Page, live_server, db_session, clock) -> None:
    """At desktop width the navigation shows in full and no Menu button is offered."""
    seed_every_screen(db_session, clock)
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server, ADMIN)
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Contacts")).to_be_visible()
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
