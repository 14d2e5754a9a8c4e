"""Settings → Users: admins add people, change roles and switch logins off."""

from __future__ import annotations

from sqlalchemy import select

from oncord.models import User
from tests.factories import make_user
from tests.web.conftest import HTMX, log_in, post


def test_users_page_lists_everyone(admin_client, staff) -> None:
    """Every user is listed with their role."""
    body = admin_client.get("/settings/users").get_data(as_text=True)
    assert "owner@clinic.example" in body and "reception@clinic.example" in body and "You" in body


def test_admin_adds_a_user_who_can_log_in(admin_client, app, db_session) -> None:
    """A new user gets the chosen password and role."""
    data = {"email": "New@Clinic.example", "password": "first password", "role": "staff"}
    response = post(admin_client, "/settings/users", data, htmx=True)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/settings/users"
    user = db_session.scalars(select(User).where(User.email == "new@clinic.example")).one()
    assert user.role == "staff" and user.password_hash.startswith("scrypt:")
    assert log_in(app.test_client(), "new@clinic.example", "first password").status_code == 303


def test_add_user_errors(admin_client, staff) -> None:
    """A taken e-mail, a bad e-mail and a short password come back on the form (422)."""
    taken = post(admin_client, "/settings/users", {"email": staff.email, "password": "long enough pw",
                                                   "role": "staff"}, htmx=True)
    assert taken.status_code == 422 and "already a user" in taken.get_data(as_text=True)
    assert taken.get_data(as_text=True).lstrip().startswith('<form id="new-user"')
    bad = post(admin_client, "/settings/users", {"email": "nope", "password": "short", "role": "staff"},
               htmx=True)
    body = bad.get_data(as_text=True)
    assert "Enter a valid e-mail address" in body and "at least 10 characters" in body


def test_admin_changes_role_and_access(admin_client, staff, db_session, app) -> None:
    """Making someone admin, or switching their login off, takes effect."""
    post(admin_client, f"/settings/users/{staff.id}",
         {f"u{staff.id}-role": "admin", f"u{staff.id}-active": "y"}, htmx=True)
    db_session.expire_all()
    assert db_session.get(User, staff.id).role == "admin"
    post(admin_client, f"/settings/users/{staff.id}", {f"u{staff.id}-role": "staff"}, htmx=True)
    db_session.expire_all()
    assert db_session.get(User, staff.id).active is False
    assert log_in(app.test_client(), staff.email).status_code == 422


def test_last_admin_cannot_demote_themself(admin_client, admin, db_session) -> None:
    """The clinic always keeps one active admin."""
    response = post(admin_client, f"/settings/users/{admin.id}", {f"u{admin.id}-role": "staff",
                                                                  f"u{admin.id}-active": "y"}, htmx=True)
    assert response.headers["HX-Redirect"] == "/settings/users"
    db_session.expire_all()
    assert db_session.get(User, admin.id).role == "admin"
    assert "only active admin" in admin_client.get("/settings/users").get_data(as_text=True)


def test_admin_demoting_themself_with_another_admin(admin_client, admin, db_session, clock) -> None:
    """With a second admin, an admin may step down and is sent to the dashboard."""
    make_user(db_session, clock, email="second@clinic.example", admin=True)
    db_session.commit()
    response = post(admin_client, f"/settings/users/{admin.id}", {f"u{admin.id}-role": "staff",
                                                                  f"u{admin.id}-active": "y"}, htmx=True)
    assert response.headers["HX-Redirect"] == "/"
    assert admin_client.get("/settings/users").status_code == 403


def test_unknown_user_is_404(admin_client) -> None:
    """Changing a user that does not exist is a 404."""
    assert post(admin_client, "/settings/users/999", {}, headers=HTMX).status_code == 404
