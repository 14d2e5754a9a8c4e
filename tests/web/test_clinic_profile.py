"""The clinic's address, phone, privacy link and logo: set by admins, shown (escaped) on public pages."""

from __future__ import annotations

import io
import re

from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from oncord.bookings.settings import clinic_settings
from oncord.clinic_profile import clinic_logo
from tests.bookings.samples import make_page
from tests.test_clinic_profile import SVG, image_bytes
from tests.web.conftest import post

SETTINGS = "/settings/online-bookings/"
DETAILS = {"clinic_name": "Sunnyside <Physio> & Co", "address": "12 Beach Rd\n<b>Sunnyside</b> VIC 3000",
           "phone": "(03) 9000 1234", "privacy_url": "https://www.sunnyside.example/privacy?a=1&b=%3C2%3E",
           "bookings_url": ""}


def upload(client, data: bytes, filename: str = "logo.png", **fields):
    """Save the settings form with a logo file, as the browser sends it (multipart).

    Encoded here in memory: the test client spools a body over 500 KB to a file it never closes.
    """
    form = MultiDict({**DETAILS, **fields})
    form.add("logo", FileStorage(io.BytesIO(data), filename=filename, content_type="image/png"))
    boundary, body = encode_multipart(form)
    return post(client, SETTINGS, body, content_type=f'multipart/form-data; boundary="{boundary}"')


def test_the_public_page_shows_address_phone_logo_and_privacy_footer(admin_client, db_session, clock) -> None:
    """Everything an admin saves appears on the Book Now page, every value escaped."""
    make_page(db_session, clock)
    db_session.commit()
    privacy = DETAILS["privacy_url"]
    response = upload(admin_client, image_bytes("PNG"))
    assert response.status_code == 303, response.get_data(as_text=True)

    html = admin_client.get("/book-now").get_data(as_text=True)
    digest = clinic_logo(db_session).digest
    assert (f'<img class="site-logo" src="/clinic-logo?v={digest[:16]}" '
            'alt="Sunnyside &lt;Physio&gt; &amp; Co logo">') in html
    assert '<span class="site-name">Sunnyside &lt;Physio&gt; &amp; Co</span>' in html
    assert '<a class="site-phone" href="tel:0390001234">(03) 9000 1234</a>' in html
    footer = html[html.index("<footer"):]
    assert "<br>12 Beach Rd<br>&lt;b&gt;Sunnyside&lt;/b&gt; VIC 3000" in footer
    assert '<a href="tel:0390001234">(03) 9000 1234</a>' in footer
    assert f'<a href="{privacy.replace("&", "&amp;")}">Privacy policy</a>' in footer
    assert "<b>" not in html and "<Physio>" not in html


def test_the_logo_is_served_at_a_stable_address_as_the_checked_image(admin_client, client, db_session):
    """/clinic-logo answers anyone with the stored bytes, the decoded type, and caching by version."""
    webp = image_bytes("WEBP")
    assert upload(admin_client, webp, filename="logo.png").status_code == 303
    digest = clinic_logo(db_session).digest
    response = client.get("/clinic-logo")
    assert response.status_code == 200
    assert response.data == webp
    assert response.headers["Content-Type"] == "image/webp"  # not what the file name claimed
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "public, max-age=300"
    versioned = client.get(f"/clinic-logo?v={digest[:16]}")
    assert "immutable" in versioned.headers["Cache-Control"]
    assert client.get("/clinic-logo", headers={"If-None-Match": f'"{digest}"'}).status_code == 304


def test_non_images_and_oversized_files_are_refused_and_nothing_is_stored(admin_client, db_session) -> None:
    """An SVG, a renamed text file and a big image come back on the form with the reason (422)."""
    big = image_bytes("PNG", (10, 10)) + b"\0" * 600 * 1024
    for data, name, reason in [(SVG, "logo.svg", "SVG logos are not accepted"),
                               (b"<html><script>alert(1)</script>", "logo.png", "not a PNG, JPEG or WebP"),
                               (big, "logo.png", "keep it under 512 KB")]:
        response = upload(admin_client, data, filename=name)
        assert response.status_code == 422
        assert reason in response.get_data(as_text=True)
    assert clinic_logo(db_session) is None
    assert clinic_settings(db_session).address is None  # one bad field: nothing saved


def test_bad_details_are_refused_with_the_reason(admin_client, db_session) -> None:
    """A phone that is not a number, or a privacy link to a script, is refused in place."""
    for field, value, reason in [("phone", "call <us>", "digits"),
                                 ("privacy_url", "javascript:alert(1)", "javascript:")]:
        response = post(admin_client, SETTINGS, {**DETAILS, field: value}, htmx=True)
        assert response.status_code == 422
        assert reason in response.get_data(as_text=True)
    assert clinic_settings(db_session).phone is None


def test_removing_the_logo_and_details(admin_client, client, db_session, clock) -> None:
    """Empty fields and "Remove the logo" clear them; the page and the logo address follow at once."""
    make_page(db_session, clock)
    db_session.commit()
    assert upload(admin_client, image_bytes("JPEG")).status_code == 303
    assert "site-logo" in client.get("/book-now").get_data(as_text=True)
    response = post(admin_client, SETTINGS, {"clinic_name": "", "address": "", "phone": "", "privacy_url": "",
                                             "bookings_url": "", "remove_logo": "y"})
    assert response.status_code == 303
    assert client.get("/clinic-logo").status_code == 404
    html = client.get("/book-now").get_data(as_text=True)
    assert "site-logo" not in html and "Privacy policy" not in html and "tel:" not in html


def test_only_admins_change_the_clinic_details(staff_client) -> None:
    """Staff cannot upload a logo."""
    assert upload(staff_client, image_bytes("PNG")).status_code == 403


def test_the_settings_form_uploads_as_multipart(admin_client) -> None:
    """The form (and htmx) send files: multipart, with the image types offered."""
    html = admin_client.get(SETTINGS).get_data(as_text=True)
    form = re.search(r'<form id="online-bookings-form"[^>]*>', html).group(0)
    assert 'enctype="multipart/form-data"' in form
    assert 'accept="image/png,image/jpeg,image/webp"' in html
