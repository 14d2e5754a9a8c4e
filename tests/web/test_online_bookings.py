"""Settings → Online bookings: admins set a validated Cliniko address and get Book Now snippets."""

from __future__ import annotations

from oncord.bookings.settings import clinic_settings
from tests.factories import make_connection
from tests.web.conftest import post


def test_only_admins_may_change_the_bookings_address(staff_client) -> None:
    """Staff get the 403 page."""
    assert staff_client.get("/settings/online-bookings/").status_code == 403
    assert post(staff_client, "/settings/online-bookings/", {"bookings_url": ""}).status_code == 403


def test_admin_saves_an_address_and_gets_snippets(admin_client, db_session, clock) -> None:
    """A valid address is stored in canonical form; the button and link HTML appear, escaped."""
    make_connection(db_session, clock)
    db_session.commit()
    page = admin_client.get("/settings/online-bookings/").get_data(as_text=True)
    assert "https://sunnyside.au1.cliniko.com/bookings" in page  # the suggestion from the connection
    response = post(admin_client, "/settings/online-bookings/",
                    {"clinic_name": "Sunnyside Physio",
                     "bookings_url": " https://Sunnyside.au1.cliniko.com/bookings/?business_id=12 "})
    assert response.status_code == 303
    db_session.expire_all()
    row = clinic_settings(db_session)
    assert row.bookings_url == "https://sunnyside.au1.cliniko.com/bookings?business_id=12"
    assert row.clinic_name == "Sunnyside Physio"
    page = admin_client.get("/settings/online-bookings/").get_data(as_text=True)
    assert "&lt;a href=&#34;https://sunnyside.au1.cliniko.com/bookings?business_id=12&#34;" in page
    assert 'class="snippet-button" href="https://sunnyside.au1.cliniko.com/bookings?business_id=12"' in page
    assert 'data-copy="#button-html"' in page


def test_an_address_that_is_not_clinikos_is_refused(admin_client, db_session) -> None:
    """Other hosts and script URLs come back on the form with the reason (422)."""
    for url, reason in [("https://evil.example.com/bookings", "not a Cliniko bookings host"),
                        ("javascript:alert(1)", "javascript:"),
                        ("https://sunnyside.au1.cliniko.com/bookings?next=https://evil.com",
                         "&#39;next&#39;")]:
        response = post(admin_client, "/settings/online-bookings/", {"bookings_url": url}, htmx=True)
        assert response.status_code == 422
        assert reason in response.get_data(as_text=True)
    assert clinic_settings(db_session).bookings_url is None


def test_clearing_the_address(admin_client, db_session) -> None:
    """An empty address is allowed and stored as none."""
    post(admin_client, "/settings/online-bookings/", {"bookings_url": "https://a.au1.cliniko.com/bookings"})
    post(admin_client, "/settings/online-bookings/", {"bookings_url": ""})
    db_session.expire_all()
    assert clinic_settings(db_session).bookings_url is None


def test_admin_sets_the_brand_colour_and_a_bad_one_is_refused(admin_client, db_session) -> None:
    """A #rrggbb colour (or #rgb, any case) is stored in lower-case six digits; anything else comes
    back on the form with how to write it; empty means the default."""
    for typed, reason in [("red", "six hex digits"), ("#12345g", "six hex digits"),
                          ("#1234567", "six hex digits"), ("<b>#fff</b>", "six hex digits")]:
        response = post(admin_client, "/settings/online-bookings/", {"brand_colour": typed}, htmx=True)
        assert response.status_code == 422 and reason in response.get_data(as_text=True)
    assert clinic_settings(db_session).brand_colour is None
    assert post(admin_client, "/settings/online-bookings/", {"brand_colour": " #1D5C7A "}).status_code == 303
    db_session.expire_all()
    assert clinic_settings(db_session).brand_colour == "#1d5c7a"
    assert 'value="#1d5c7a"' in admin_client.get("/settings/online-bookings/").get_data(as_text=True)
    assert post(admin_client, "/settings/online-bookings/", {"brand_colour": "#abc"}).status_code == 303
    db_session.expire_all()
    assert clinic_settings(db_session).brand_colour == "#aabbcc"
    post(admin_client, "/settings/online-bookings/", {"brand_colour": ""})
    db_session.expire_all()
    assert clinic_settings(db_session).brand_colour is None
