"""Security headers, CSRF on htmx requests, error pages and the vendored front end."""

from __future__ import annotations

from pathlib import Path

from tests.web.conftest import HTMX, csrf_token

ROOT = Path(__file__).resolve().parents[2]


def test_security_headers_on_every_page(client, staff_client) -> None:
    """CSP without inline script, no framing, no sniffing, a strict referrer and no caching."""
    for response in (client.get("/login"), staff_client.get("/contacts"), staff_client.get("/nope")):
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["Cache-Control"] == "no-store"


def test_session_cookie_flags(client, staff) -> None:
    """The session cookie is HttpOnly and SameSite=Lax."""
    from tests.web.conftest import log_in

    cookie = log_in(client, staff.email).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_csrf_token_in_htmx_header_is_accepted_and_required(staff_client) -> None:
    """htmx sends the token from <body data-hx-headers>; without it a POST is refused with an alert."""
    assert staff_client.post("/logout", headers=HTMX).status_code == 400
    token = csrf_token(staff_client)
    assert staff_client.post("/logout", headers={**HTMX, "X-CSRFToken": token}).status_code == 204


def test_csrf_token_from_another_session_is_refused(app, staff_client) -> None:
    """A token is only good for the session it was made for."""
    stranger = app.test_client()
    token = csrf_token(stranger)
    assert staff_client.post("/logout", headers={"X-CSRFToken": token}).status_code == 400


def test_body_carries_the_csrf_header_for_htmx(staff_client) -> None:
    """Every page puts the token in data-hx-headers, and configures htmx to swap 422s."""
    body = staff_client.get("/").get_data(as_text=True)
    assert "data-hx-headers='{\"X-CSRFToken\": \"" in body
    assert '{"code": "422", "swap": true}' in body
    assert '"historyCacheSize": 0' in body


def test_htmx_error_gets_an_alert_not_a_page(staff_client) -> None:
    """An htmx request that fails gets its advice in a header app.js shows, not a page to swap."""
    response = staff_client.get("/contacts/999999/edit", headers=HTMX)
    assert response.status_code == 404
    assert "X-Oncord-Alert" in response.headers and b"<html" not in response.data


def test_error_pages_say_what_to_do(app, staff_client) -> None:
    """404 and 405 pages explain and link onwards."""
    missing = staff_client.get("/no/such/page").get_data(as_text=True)
    assert "We couldn&#39;t find that page" in missing and "Go to the dashboard" in missing
    anonymous = app.test_client().get("/no/such/page").get_data(as_text=True)
    assert "Log in" in anonymous
    assert staff_client.put("/contacts").status_code == 405


def test_htmx_is_vendored_and_pinned() -> None:
    """htmx 2.0.x is served from static/ (no CDN) and pages reference it."""
    vendored = ROOT / "static" / "htmx-2.0.11.min.js"
    assert vendored.exists() and 'version:"2.0.11"' in vendored.read_text().replace(" ", "")
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        assert "cdn" not in text.lower() and "unpkg" not in text.lower(), template


def test_no_inline_scripts_or_styles_in_templates() -> None:
    """Templates have no inline script, event handler or style attribute (the CSP forbids them)."""
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        assert "<script>" not in text and " style=" not in text and " onclick=" not in text, template
