"""Every state-changing route refuses a request without a valid CSRF token, bar a reviewed few."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from oncord.web.security import csrf
from tests.web.conftest import csrf_token

# Reviewed exemptions, each protected another way:
# - the unsubscribe link carries a signed token and must work from a mail client's one-click POST
#   (RFC 8058), which has no session;
# - Twilio's webhook is checked against Twilio's request signature.
EXEMPT = {
    "unsubscribe.unsubscribe_post": "oncord.web.messaging.unsubscribe_post",
    "unsubscribe.twilio_inbound": "oncord.web.messaging.twilio_inbound",
}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
CSRF_REFUSAL = "forms stop working after you log out"


def _unsafe_routes(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every unsafe method of every rule, with made-up URL arguments."""
    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & UNSAFE):
            url = re.sub(r"<(?:int:)?(\w+)>", lambda m: "1" if "int:" in m.group(0) else "x", rule.rule)
            routes.append((rule.endpoint, method, url))
    return sorted(routes)


def test_the_url_map_has_state_changing_routes(app) -> None:
    """The walk below sees the routes it is meant to guard (so it cannot pass by finding none)."""
    endpoints = {endpoint for endpoint, _method, _url in _unsafe_routes(app)}
    assert {"campaigns.send_now", "campaigns.cancel", "settings.connect", "contacts.edit_post",
            "automations.toggle", "settings.disconnect"} <= endpoints
    assert set(EXEMPT) <= endpoints


def test_only_the_reviewed_endpoints_are_exempt_from_csrf(app) -> None:
    """Flask-WTF's exempt list is exactly the reviewed one; no blueprint is exempt wholesale."""
    protect = app.extensions["csrf"]
    assert protect is csrf
    assert set(protect._exempt_views) == set(EXEMPT.values())
    assert not protect._exempt_blueprints
    assert app.config.get("WTF_CSRF_CHECK_DEFAULT", True) is True
    assert app.config.get("WTF_CSRF_METHODS", UNSAFE) >= UNSAFE


@pytest.mark.parametrize("token", ["missing", "another session's", "garbage"])
def test_every_state_changing_route_refuses_a_request_without_a_valid_token(
    app, admin_client: FlaskClient, token: str
) -> None:
    """A logged-in admin's POST (and PUT/PATCH/DELETE) without a valid token gets the expired-form page."""
    headers: dict[str, str] = {}
    if token == "another session's":
        headers["X-CSRFToken"] = csrf_token(app.test_client())
    elif token == "garbage":
        headers["X-CSRFToken"] = "IjEyMyI.not-a-token"
    checked = []
    for endpoint, method, url in _unsafe_routes(app):
        if endpoint in EXEMPT:
            continue
        for htmx in (False, True):
            response = admin_client.open(
                url, method=method, data={"x": "1"},
                headers={**headers, **({"HX-Request": "true"} if htmx else {})},
            )
            assert response.status_code == 400, (endpoint, method, htmx, response.status_code)
            assert CSRF_REFUSAL in response.get_data(as_text=True), (endpoint, method, htmx)
        checked.append(endpoint)
    assert len(checked) >= 30


def test_a_valid_token_gets_past_the_check_on_every_route(app, admin_client: FlaskClient) -> None:
    """The refusal above is the CSRF check and nothing else: with the session's token no route refuses so."""
    token = csrf_token(admin_client)
    for endpoint, method, url in _unsafe_routes(app):
        if endpoint in EXEMPT or endpoint == "auth.logout":
            continue
        response = admin_client.open(url, method=method, data={"x": "1"}, headers={"X-CSRFToken": token})
        assert CSRF_REFUSAL not in response.get_data(as_text=True), (endpoint, method)


def test_the_exempt_unsubscribe_needs_its_own_signed_token(app, client, db_session, clock) -> None:
    """Exempt from CSRF is not open: a token not signed with this app's secret unsubscribes nobody."""
    from oncord.messaging.unsubscribe import make_token
    from oncord.models import Contact
    from tests.factories import make_contact

    contact = make_contact(db_session, clock, email="ann@example.com", email_marketing_status="subscribed")
    db_session.commit()
    forged = make_token("not this app's secret", contact.id, "email")
    assert client.post(f"/u/{forged}", data={"List-Unsubscribe": "One-Click"}).status_code == 404
    db_session.expire_all()
    assert db_session.get(Contact, contact.id).email_marketing_status == "subscribed"
    genuine = make_token(app.config["SECRET_KEY"], contact.id, "email")
    assert client.post(f"/u/{genuine}", data={"List-Unsubscribe": "One-Click"}).status_code == 200
    db_session.expire_all()
    assert db_session.get(Contact, contact.id).email_marketing_status == "unsubscribed"
