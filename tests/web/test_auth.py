"""Logging in and out, roles, session expiry, login throttling and password changes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from oncord.models import User
from tests.factories import PASSWORD, make_user
from tests.web.conftest import HTMX, csrf_token, log_in, post

STAFF_PAGES = ["/", "/contacts", "/contacts/1", "/contacts/1/edit", "/contacts/1/activity",
               "/account/password"]
ADMIN_PAGES = ["/settings/", "/settings/integrations", "/settings/users",
               "/settings/integrations/cliniko/sync-runs", "/settings/integrations/cliniko/sync-runs/1"]
ADMIN_POSTS = ["/settings/integrations/cliniko", "/settings/integrations/cliniko/auto-sync",
               "/settings/integrations/cliniko/sync", "/settings/integrations/cliniko/disconnect",
               "/settings/users", "/settings/users/1"]


@pytest.mark.parametrize("url", STAFF_PAGES + ADMIN_PAGES)
def test_anonymous_requests_go_to_login(client, url) -> None:
    """Every staff page sends a visitor who is not logged in to the login page, remembering where."""
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    if url != "/":
        assert "next=" in response.headers["Location"]


def test_anonymous_htmx_request_redirects_the_whole_page(client) -> None:
    """htmx gets HX-Redirect (not a login form to swap into a fragment), back to the page it was on."""
    response = client.get("/contacts?q=ann", headers={**HTMX, "HX-Current-URL": "http://localhost/contacts?q=an"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/contacts?q%3Dan"
    assert b"<form" not in response.data


def test_login_then_back_to_the_page_asked_for(client, staff, db_session, clock) -> None:
    """A good password starts a session, records the login time and returns to `next`."""
    token = csrf_token(client)
    response = client.post("/login", data={"email": "Reception@Clinic.example ", "password": PASSWORD,
                                           "next": "/contacts?q=smith", "csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == "/contacts?q=smith"
    assert client.get("/contacts").status_code == 200
    db_session.expire_all()
    assert db_session.get(User, staff.id).last_login_at == clock.now()


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example",
                                    "javascript:x"])
def test_login_ignores_a_next_that_leaves_the_site(client, staff, target) -> None:
    """An open redirect through ?next= is not possible."""
    response = client.post("/login", data={"email": staff.email, "password": PASSWORD, "next": target,
                                           "csrf_token": csrf_token(client)})
    assert response.headers["Location"] == "/"


def test_wrong_password_is_refused_with_a_clear_message(client, staff) -> None:
    """A wrong password shows the form again (422) and starts no session."""
    response = log_in(client, staff.email, "not the password")
    assert response.status_code == 422
    assert "do not match an active account" in response.get_data(as_text=True)
    assert client.get("/contacts").status_code == 302


def test_inactive_user_cannot_log_in(client, db_session, clock) -> None:
    """A deactivated user's right password is refused."""
    make_user(db_session, clock, email="gone@clinic.example", active=False)
    db_session.commit()
    assert log_in(client, "gone@clinic.example").status_code == 422


def test_login_without_csrf_token_is_rejected(client, staff) -> None:
    """The login form is CSRF-protected too."""
    response = client.post("/login", data={"email": staff.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "This page had expired" in response.get_data(as_text=True)


def test_login_is_throttled_after_five_wrong_passwords(client, staff, clock) -> None:
    """Guessing stops after five failures: even the right password waits until the window passes."""
    for _ in range(5):
        assert log_in(client, staff.email, "guess").status_code == 422
    blocked = log_in(client, staff.email)
    assert blocked.status_code == 429
    assert "Too many wrong passwords" in blocked.get_data(as_text=True)
    clock.advance(minutes=31)
    assert log_in(client, staff.email).status_code == 303


def test_throttle_counts_unknown_emails_too(client, clock) -> None:
    """Probing for accounts is throttled like guessing a password."""
    for _ in range(5):
        log_in(client, "nobody@clinic.example", "guess")
    assert log_in(client, "nobody@clinic.example", "guess").status_code == 429


def test_session_expires_after_its_lifetime(staff_client, app, clock) -> None:
    """After session_lifetime_minutes the next request goes to the login page."""
    assert staff_client.get("/").status_code == 200
    clock.advance(minutes=app.extensions["oncord.settings"].session_lifetime_minutes + 1)
    response = staff_client.get("/contacts")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert "Your session ended" in staff_client.get("/login").get_data(as_text=True)


def test_deactivating_a_user_ends_their_session(staff_client, staff, db_session) -> None:
    """A user switched off by an admin is logged out on their next request."""
    db_session.get(User, staff.id).active = False
    db_session.commit()
    assert staff_client.get("/").status_code == 302


def test_logout(staff_client) -> None:
    """Logging out is a POST (with CSRF) that ends the session."""
    assert staff_client.get("/logout").status_code in (404, 405)  # a link cannot log anyone out
    assert staff_client.get("/").status_code == 200
    response = post(staff_client, "/logout")
    assert response.status_code == 303
    assert staff_client.get("/").status_code == 302


def test_logout_over_htmx_redirects_the_page(staff_client) -> None:
    """An htmx POST gets HX-Redirect rather than a 303 it would follow inside the XHR."""
    response = post(staff_client, "/logout", htmx=True)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/login"


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_staff_cannot_see_admin_pages(staff_client, url) -> None:
    """Integration settings and users are for admins only."""
    response = staff_client.get(url)
    assert response.status_code == 403
    assert "Ask your clinic" in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ADMIN_POSTS)
def test_staff_cannot_change_admin_settings(staff_client, url) -> None:
    """Posting to an admin endpoint is refused before anything happens."""
    assert post(staff_client, url, {"enabled": "y", "api_key": "x"}).status_code == 403


def test_staff_navigation_has_no_settings(staff_client, admin) -> None:
    """Staff do not see a Settings link; admins do."""
    assert "/settings/" not in staff_client.get("/").get_data(as_text=True)


def test_admin_navigation_has_settings(admin_client) -> None:
    """The admin's menu links to Settings."""
    assert 'href="/settings/integrations"' in admin_client.get("/").get_data(as_text=True)


def test_password_change(staff_client, staff, db_session) -> None:
    """Changing the password needs the current one, and the new one twice."""
    wrong = post(staff_client, "/account/password", {"current_password": "nope",
                                                     "new_password": "new password 1",
                                                     "confirm": "new password 1"}, htmx=True)
    assert wrong.status_code == 422 and "not your current password" in wrong.get_data(as_text=True)
    mismatch = post(staff_client, "/account/password", {"current_password": PASSWORD,
                                                        "new_password": "new password 1", "confirm": "other"},
                    htmx=True)
    assert mismatch.status_code == 422 and "not the same" in mismatch.get_data(as_text=True)
    short = post(staff_client, "/account/password", {"current_password": PASSWORD, "new_password": "short",
                                                     "confirm": "short"}, htmx=True)
    assert short.status_code == 422 and "at least 10" in short.get_data(as_text=True)
    done = post(staff_client, "/account/password", {"current_password": PASSWORD,
                                                    "new_password": "new password 1",
                                                    "confirm": "new password 1"}, htmx=True)
    assert done.status_code == 204 and done.headers["HX-Redirect"] == "/"
    assert staff_client.get("/").status_code == 200


def test_password_change_ends_other_sessions(app, staff, db_session) -> None:
    """A session started before a password change stops working."""
    first, second = app.test_client(), app.test_client()
    log_in(first, staff.email)
    log_in(second, staff.email)
    post(first, "/account/password", {"current_password": PASSWORD, "new_password": "brand new password",
                                      "confirm": "brand new password"})
    assert first.get("/").status_code == 200
    assert second.get("/").status_code == 302


def test_logged_in_user_visiting_login_goes_home(staff_client) -> None:
    """The login page sends someone already logged in to the dashboard."""
    assert staff_client.get("/login").headers["Location"] == "/"


def test_email_is_stored_lower_case(db_session, clock) -> None:
    """E-mails are compared case-insensitively because they are stored lower-case."""
    make_user(db_session, clock, email="MiXeD@Clinic.Example")
    assert db_session.scalars(select(User.email)).all() == ["mixed@clinic.example"]


def test_a_cookie_copied_before_logout_is_refused_after_it(app, staff_client) -> None:
    """Logout ends the session in the database: a copy of the cookie taken earlier opens nothing."""
    cookie = staff_client.get_cookie("oncord_session").value
    post(staff_client, "/logout")
    thief = app.test_client()
    thief.set_cookie("oncord_session", cookie)
    response = thief.get("/contacts")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_admin_signs_a_user_out_everywhere(app, admin_client, staff) -> None:
    """"Sign out everywhere" ends every session of that user at once; the admin stays in."""
    laptop, phone = app.test_client(), app.test_client()
    log_in(laptop, staff.email)
    log_in(phone, staff.email)
    assert laptop.get("/").status_code == 200
    response = post(admin_client, f"/settings/users/{staff.id}/sign-out")
    assert response.status_code == 303
    assert laptop.get("/").status_code == 302 and phone.get("/").status_code == 302
    assert admin_client.get("/").status_code == 200
    assert log_in(laptop, staff.email).status_code == 303  # a new login works again


def test_staff_cannot_sign_others_out(staff_client, admin) -> None:
    """Ending sessions is an admin action."""
    assert post(staff_client, f"/settings/users/{admin.id}/sign-out").status_code == 403


def test_deactivation_ends_a_session_started_earlier(app, admin_client, staff) -> None:
    """An admin switching a user off over HTTP logs out the session that user already had."""
    other = app.test_client()
    log_in(other, staff.email)
    assert other.get("/").status_code == 200
    post(admin_client, f"/settings/users/{staff.id}", {f"u{staff.id}-role": "staff"})
    assert other.get("/").status_code == 302
