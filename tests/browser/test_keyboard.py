"""A keyboard user can see where focus is, skip the menu, and keeps their place across htmx swaps."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.staff_pages import ADMIN, seed_every_screen
from tests.browser.test_staff_flows import log_in

pytestmark = pytest.mark.browser

# The focused element's outline colour, width and style, and the page colour behind it.
RING = """() => {
  const s = getComputedStyle(document.activeElement);
  return [s.outlineColor, s.outlineStyle, parseFloat(s.outlineWidth)];
}"""


def _luminance(css: str) -> float:
    """WCAG relative luminance of an opaque `rgb(r, g, b)` colour."""
    match = re.fullmatch(r"rgba?\((\d+), (\d+), (\d+)(?:, ([\d.]+))?\)", css)
    assert match and (match[4] is None or float(match[4]) == 1), f"not an opaque colour: {css}"
    channels = [int(match[i]) / 255 for i in (1, 2, 3)]
    r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_against_white(css: str) -> float:
    """The contrast ratio of a colour against white, from 1 to 21."""
    return 1.05 / (_luminance(css) + 0.05)


def _ring(page: Page) -> tuple[str, str, float]:
    color, style, width = page.evaluate(RING)
    return color, style, width


def test_skip_link_is_the_first_tab_stop_and_reaches_the_content(
    page: Page, live_server, db_session, clock
) -> None:
    """The first Tab shows "Skip to content"; Enter moves focus past the menu into the page."""
    seed_every_screen(db_session, clock)
    log_in(page, live_server, ADMIN, "/settings/users")
    page.goto(live_server + "/settings/users")  # a fresh page: focus starts at the top
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main#content")).to_be_focused()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")
    assert page.evaluate("document.activeElement.closest('header') === null")


def test_focus_ring_is_at_least_three_to_one_on_fields_and_checkboxes(
    page: Page, live_server, db_session, clock
) -> None:
    """Tabbing to a text field, a checkbox and a button shows a solid ring of 3:1 or more against white."""
    seed_every_screen(db_session, clock)
    log_in(page, live_server, ADMIN, "/campaigns/new?channel=email")
    group = page.get_by_role("group", name="E-mail status")
    checkbox = group.get_by_role("checkbox", name="Subscribed", exact=True)
    name = page.get_by_label("Name (staff only)")
    button = page.get_by_role("button", name="Add an appointment condition")
    for target in (name, checkbox, button):
        target.focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")
        expect(target).to_be_focused()
        color, style, width = _ring(page)
        assert style == "solid" and width >= 2, (target, style, width)
        assert contrast_against_white(color) >= 3, (target, color)


def test_checkbox_groups_are_named_by_a_legend(page: Page, live_server, db_session, clock) -> None:
    """Each status checkbox is heard with its channel: it sits in a group named after the channel."""
    seed_every_screen(db_session, clock)
    log_in(page, live_server, ADMIN, "/campaigns/new?channel=email")
    for channel in ("E-mail status", "SMS status"):
        group = page.get_by_role("group", name=channel)
        expect(group.get_by_role("checkbox", name="Subscribed", exact=True)).to_have_count(1)
    assert page.locator("label[for] + ul, label[for='email_statuses']").count() == 0


def test_an_invalid_contact_save_puts_focus_on_the_first_wrong_field(
    page: Page, live_server, db_session, clock
) -> None:
    """After an invalid Save focus is on the first wrong field; after Cancel, on the details."""
    screens = seed_every_screen(db_session, clock)
    log_in(page, live_server, ADMIN, screens["contact"])
    page.get_by_role("link", name="Edit").first.click()
    email = page.get_by_label("E-mail", exact=True)
    email.fill("not an address")
    page.get_by_role("button", name="Save").press("Enter")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_be_focused()
    page.get_by_role("link", name="Cancel").press("Enter")
    details = page.locator("section#contact-details")
    expect(details.get_by_role("heading", name="Details")).to_be_visible()
    expect(details).to_be_focused()


def test_page_editor_remove_and_edit_keep_focus(page: Page, live_server, db_session, clock) -> None:
    """Remove moves focus to the next block and says so; Edit moves focus into the block's settings."""
    screens = seed_every_screen(db_session, clock)
    log_in(page, live_server, ADMIN, screens["page editor"])
    blocks = page.locator("#blocks > .block")
    expect(blocks).to_have_count(2)
    blocks.first.get_by_role("button", name="Remove").press("Enter")
    expect(blocks).to_have_count(1)
    expect(blocks.first).to_be_focused()
    expect(page.locator("#editor-status")).to_have_text(re.compile("Heading block removed"))
    blocks.first.get_by_role("button", name="Edit").press("Enter")
    expect(page.locator("#block-settings .settings-kind")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("textbox", name="Text")).to_be_focused()


def test_the_audience_sample_adds_no_tab_stops_until_opened(
    page: Page, live_server, db_session, clock
) -> None:
    """The live count's sample of contacts is folded: one tab stop per sample, its links after opening."""
    seed_every_screen(db_session, clock)
    log_in(page, live_server, ADMIN, "/campaigns/new?channel=email")
    count = page.locator("#audience-count")
    expect(count.locator("summary")).not_to_have_count(0)
    expect(count.locator("a:visible")).to_have_count(0)
    count.locator("summary").first.press("Enter")
    expect(count.locator("a:visible").first).to_be_visible()
