"""A designed e-mail in headless Chromium: at phone width (390 px) it never scrolls sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from oncord.messaging.design import EmailDesign
from oncord.messaging.templates import SAMPLE_DATA, render_email

pytestmark = pytest.mark.browser

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
