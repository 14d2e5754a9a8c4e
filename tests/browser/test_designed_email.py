"""A designed e-mail in headless Chromium: at phone width (390 px) it never scrolls sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from oncord.bookings.settings import update_clinic_settings
from oncord.bookings.urls import parse_bookings_url
from oncord.messaging.design import EmailDesign
from oncord.messaging.templates import SAMPLE_DATA, render_email
from oncord.models import MessagingSettings
from tests.browser.axe import violations
from tests.browser.test_page_editor import log_in
from tests.factories import make_user

pytestmark = pytest.mark.browser
BOOKINGS = "https://sunnyside.au1.cliniko.com/bookings"

LONG_BODY = """Hi {{ first_name }},

Our hydrotherapy pool reopens on Monday. Physiotherapists recommend aquatic rehabilitation for
post-operative recovery, so book early: https://www.sunnyside.example/a/very/long/address/that/never/breaks/anywhere/at/all?with=a&long=query&string=too
[button: Book your hydrotherapy session with {{ practitioner }} today]
---
[image: https://cdn.sunnyside.example/pool.jpg | The new hydrotherapy pool]
Supercalifragilisticexpialidociousnessandthensomemorelettersthatmakeonelongword.
See you soon."""


@pytest.mark.parametrize("width", [390, 320])
def test_the_sent_html_fits_a_phone_without_sideways_scrolling(page: Page, width: int) -> None:
    """The HTML part as sent (logo, long links and words, a long button, an image) fits the screen."""
    email = render_email(
        "Pool news", LONG_BODY, SAMPLE_DATA, sender_name="Sunnyside Physio",
        footer=["Sunnyside Physio", "12 Beach Road, St Kilda VIC 3182 · 03 9000 0000"],
        unsubscribe_url="https://oncord.sunnyside.example/u/" + "x" * 80,
        design=EmailDesign("Sunnyside Physio", "/clinic-logo?v=0123456789abcdef", "#1d5c7a"),
        base_url="https://oncord.sunnyside.example",
    )
    page.set_viewport_size({"width": width, "height": 800})
    page.set_content(email.html)
    widths = page.evaluate("""() => ({page: document.documentElement.scrollWidth, screen: innerWidth,
        widest: [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > innerWidth + 0.5).slice(0, 5)
            .map(e => e.tagName + ' ' + Math.round(e.getBoundingClientRect().right))})""")
    assert widths["page"] <= widths["screen"], widths["widest"]
    button = page.get_by_role("link", name="Book your hydrotherapy session with Dr Jane Smith today")
    assert button.get_attribute("href") == SAMPLE_DATA["book_now_url"]
    assert button.bounding_box()["width"] <= width


@pytest.mark.parametrize("width", [1280, 390])
def test_the_campaign_editor_previews_the_design_at_desktop_and_phone_width(
    page: Page, live_server: str, db_session, clock, width: int
) -> None:
    """Preview shows two frames of the sent HTML (600 and 390 px) with the button; the screen still
    passes axe and, on a phone, does not scroll sideways."""
    make_user(db_session, clock, email="reception@clinic.example")
    db_session.add(MessagingSettings(id=1, sender_name="Sunnyside Physio",
                                     sender_email="hello@sunnyside.example"))
    update_clinic_settings(db_session, clinic_name="Sunnyside Physio",
                           bookings_url=parse_bookings_url(BOOKINGS), clock=clock)
    db_session.commit()
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server, "reception@clinic.example", "/campaigns/new?channel=email")
    body = page.get_by_role("textbox", name="E-mail", exact=True)
    body.fill("Hi {{ first_name }},\n[button: Book now]\n---\nBye")
    page.get_by_role("button", name="Preview", exact=True).click()
    desktop = page.locator('iframe[title="The e-mail at desktop width"]')
    expect(page.locator("#preview")).to_contain_text("Desktop (600 px)")
    expect(desktop).to_have_attribute("width", "600")
    expect(page.locator('iframe[title="The e-mail at phone width"]')).to_have_attribute("width", "390")
    for title in ("desktop", "phone"):
        frame = page.frame_locator(f'iframe[title="The e-mail at {title} width"]')
        expect(frame.get_by_role("link", name="Book now")).to_have_attribute("href", BOOKINGS)
    assert violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
