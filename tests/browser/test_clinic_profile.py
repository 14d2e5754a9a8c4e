"""The clinic's details in headless Chromium: an admin uploads a logo through the settings form
(htmx, multipart), and a visitor sees it, the address, phone and privacy link under the public CSP."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.bookings.samples import make_page
from tests.browser.test_page_editor import log_in
from tests.factories import make_user
from tests.test_clinic_profile import image_bytes

pytestmark = pytest.mark.browser


def test_admin_sets_the_clinic_details_and_visitors_see_them(page: Page, live_server: str, db_session, clock,
                                                              tmp_path) -> None:
    """Logo, address, phone and privacy link saved in the browser appear on the Book Now page."""
    make_user(db_session, clock, email="owner@clinic.example", admin=True)
    make_page(db_session, clock)
    db_session.commit()
    log_in(page, live_server, "owner@clinic.example", "/settings/online-bookings/")

    text_file = tmp_path / "logo.png"
    text_file.write_bytes(b"<svg onload='alert(1)'></svg>")
    page.get_by_label("Logo").set_input_files(str(text_file))
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#online-bookings-form")).to_contain_text("SVG logos are not accepted")

    logo = tmp_path / "sunnyside.png"
    logo.write_bytes(image_bytes("PNG", (240, 80)))
    page.get_by_label("Clinic name").fill("Sunnyside Physio")
    page.get_by_label("Street address").fill("12 Beach Rd\nSunnyside VIC 3000")
    page.get_by_label("Phone").fill("(03) 9000 1234")
    page.get_by_label("Privacy policy").fill("https://www.sunnyside.example/privacy")
    page.get_by_label("Logo").set_input_files(str(logo))
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#alerts")).to_contain_text("Saved")
    expect(page.get_by_alt_text("Your current logo")).to_be_visible()

    visitor = page.context.browser.new_context()
    public = visitor.new_page()
    violations: list[str] = []
    public.on("console", lambda message: violations.append(message.text)
              if "Content Security Policy" in message.text else None)
    public.goto(live_server + "/book-now")
    shown = public.get_by_alt_text("Sunnyside Physio logo")
    expect(shown).to_be_visible()
    assert shown.evaluate("img => img.naturalWidth") == 240
    footer = public.locator("footer")
    expect(footer).to_contain_text("12 Beach Rd")
    expect(footer).to_contain_text("Sunnyside VIC 3000")
    expect(footer.get_by_role("link", name="(03) 9000 1234")).to_have_attribute("href", "tel:0390001234")
    expect(footer.get_by_role("link", name="Privacy policy")).to_have_attribute(
        "href", "https://www.sunnyside.example/privacy")
    assert violations == []
    visitor.close()
