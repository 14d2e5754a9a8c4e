"""Staff and public screens pass axe-core's WCAG 2.x A/AA rules, before and after htmx swaps."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from oncord.context import settings
from oncord.feedback.tokens import make_token
from tests.browser.axe import violations as axe_violations
from tests.browser.staff_pages import ADMIN, seed_every_screen
from tests.browser.test_staff_flows import log_in

pytestmark = pytest.mark.browser

# Two checks of valid HTML that axe no longer makes: ids are unique (several forms on one page
# each rendered id="csrf_token"), and a <time datetime> has at most three decimals of a second.
MARKUP = """() => {
  const ids = [...document.querySelectorAll("[id]")].map(el => el.id);
  const twice = [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))].map(id => "duplicate id " + id);
  const times = [...document.querySelectorAll("time[datetime]")].map(t => t.getAttribute("datetime"))
    .filter(v => /\\.\\d{4,}/.test(v)).map(v => "datetime " + v);
  return twice.concat(times);
}"""


def violations(page: Page) -> list[str]:
    """axe-core's WCAG A/AA violations and the two markup checks."""
    return axe_violations(page) + page.evaluate(MARKUP)


@pytest.mark.parametrize("width", [1280, 390])
def test_every_screen_passes_axe(page: Page, app, live_server, db_session, clock, width) -> None:
    """No staff or public screen has a WCAG A/AA violation that axe-core can find, wide or narrow."""
    screens = seed_every_screen(db_session, clock)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live_server + "/login")
    found = {"login": violations(page)}
    page.goto(live_server + "/book-online")
    found["public page"] = violations(page)
    page.goto(live_server + "/f/" + make_token(settings(app).secret_key, 1, "automation-preview") + "/7")
    found["feedback page"] = violations(page)
    log_in(page, live_server, ADMIN)
    for name, path in screens.items():
        page.goto(live_server + path)
        page.wait_for_load_state("networkidle")
        found[name] = violations(page)
    found = {name: lines for name, lines in found.items() if lines}
    assert not found, found


def test_screens_still_pass_axe_after_their_htmx_swaps(page: Page, live_server, db_session, clock) -> None:
    """What htmx swaps in (errors, edit forms, block settings, search results, audience) passes axe too."""
    screens = seed_every_screen(db_session, clock)
    log_in(page, live_server, ADMIN, screens["contact"])
    found = {}
    page.get_by_role("link", name="Edit").first.click()
    page.get_by_label("E-mail", exact=True).fill("not an address")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_label("E-mail", exact=True)).to_have_attribute("aria-invalid", "true")
    found["contact edit, invalid"] = violations(page)

    page.goto(live_server + screens["contacts"])
    page.get_by_role("searchbox", name="Search contacts").fill("Smith")
    expect(page.locator("#contact-results")).to_contain_text("Smith")
    found["contact search"] = violations(page)

    page.goto(live_server + screens["page editor"])
    page.locator("#blocks > .block").first.get_by_role("button", name="Edit").click()
    expect(page.locator("#block-settings .settings-kind")).to_be_focused()
    page.get_by_role("textbox", name="Heading").fill("")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#block-settings [aria-invalid=true]")).to_be_focused()
    found["page editor, invalid block"] = violations(page)

    page.goto(live_server + screens["campaign editor"])
    page.get_by_role("button", name="Add an appointment condition").click()
    expect(page.get_by_role("group", name="Appointment condition 2")).to_be_visible()
    found["campaign audience, a condition added"] = violations(page)
    found = {name: lines for name, lines in found.items() if lines}
    assert not found, found
