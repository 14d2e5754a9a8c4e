"""The login throttle protects accounts without denying service, over HTTP with an injected clock.

Client addresses are the WSGI environ's REMOTE_ADDR (and X-Forwarded-For behind ProxyFix): no
request leaves the test client.
"""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

from oncord import create_app
from oncord.db import get_database
from tests.factories import PASSWORD
from tests.web.conftest import log_in, post

ATTACKER, OWNER = "203.0.113.66", "198.51.100.7"


def _client_at(app: Flask, address: str, **headers: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": address, **{f"HTTP_{k}": v for k, v in headers.items()}})
    return client


def _wait(response) -> int:
    assert response.status_code == 429, response.status_code
    assert "Too many wrong passwords" in response.get_data(as_text=True)
    return int(response.headers["Retry-After"])


def test_thirty_failures_from_one_address_delay_another_account_there_by_seconds(app, staff, clock) -> None:
    """30 wrong passwords from one address (a shared clinic address) hold up a colleague's right one 10 s."""
    shared = _client_at(app, ATTACKER)
    for n in range(30):
        assert log_in(shared, f"guess{n // 5}@clinic.example", "wrong password").status_code == 422
    assert _wait(log_in(shared, staff.email)) <= 10
    clock.advance(seconds=10)
    assert log_in(shared, staff.email).status_code == 303


def test_the_owner_of_a_targeted_account_logs_in_from_another_address(app, staff, clock) -> None:
    """Guessing one account from one address stops that address, not the owner elsewhere."""
    attacker = _client_at(app, ATTACKER)
    for _ in range(5):
        assert log_in(attacker, staff.email, "wrong password").status_code == 422
    for _ in range(25):
        assert _wait(log_in(attacker, staff.email, "wrong password")) > 10 * 60
    owner = _client_at(app, OWNER)
    assert _wait(log_in(owner, staff.email)) <= 10
    clock.advance(seconds=10)
    assert log_in(owner, staff.email).status_code == 303
    # ...while the guesser's address still waits out its 15 minutes, even with the right password.
    assert _wait(log_in(attacker, staff.email)) > 10 * 60


def test_guessing_from_many_addresses_grows_the_delay_to_a_minute_and_no_more(app, staff, clock) -> None:
    """Failures spread over addresses slow each try (10 s, 30 s, then 60 s), never a lock-out."""
    waits = []
    for n in range(40):
        guesser = _client_at(app, f"203.0.113.{n + 1}")
        response = log_in(guesser, staff.email, "wrong password")
        if response.status_code == 429:
            wait = _wait(response)
            waits.append(wait)
            clock.advance(seconds=wait)
            response = log_in(guesser, staff.email, "wrong password")
        assert response.status_code == 422
    assert sorted(set(waits)) == [10, 30, 60]
    owner = _client_at(app, OWNER)
    assert _wait(log_in(owner, staff.email)) <= 60
    clock.advance(seconds=60)
    assert log_in(owner, staff.email).status_code == 303


@pytest.fixture
def proxied_app(app: Flask, database_url: str, redis_url: str, clock) -> Flask:
    """The app as deployed behind one reverse proxy (TRUSTED_PROXY_COUNT=1), on the test database."""
    behind = create_app({"mode": "test", "database_url": database_url, "redis_url": redis_url,
                         "rq_queue": "oncord-test", "trusted_proxy_count": 1}, clock=clock)
    behind.config["WTF_CSRF_ENABLED"] = True
    yield behind
    get_database(behind).engine.dispose()


def test_behind_a_proxy_the_forwarded_client_address_is_counted(proxied_app, staff, clock) -> None:
    """With TRUSTED_PROXY_COUNT=1 each client behind the proxy has its own count; a forged hop is ignored."""
    attacker = _client_at(proxied_app, "127.0.0.1", X_FORWARDED_FOR=ATTACKER)
    for _ in range(5):
        assert log_in(attacker, staff.email, "wrong password").status_code == 422
    assert _wait(log_in(attacker, staff.email)) > 10 * 60
    # Claiming to be the owner in front of the real address fools nobody: the proxy's entry counts.
    forged = _client_at(proxied_app, "127.0.0.1", X_FORWARDED_FOR=f"{OWNER}, {ATTACKER}")
    assert _wait(log_in(forged, staff.email)) > 10 * 60
    owner = _client_at(proxied_app, "127.0.0.1", X_FORWARDED_FOR=OWNER)
    assert _wait(log_in(owner, staff.email)) <= 10
    clock.advance(seconds=10)
    assert log_in(owner, staff.email).status_code == 303


def test_without_trusted_proxies_the_header_is_not_believed(app, staff) -> None:
    """TRUSTED_PROXY_COUNT=0 (the default): X-Forwarded-For cannot buy an attacker fresh tries."""
    for n in range(5):
        spoofing = _client_at(app, ATTACKER, X_FORWARDED_FOR=f"198.51.100.{n}")
        assert log_in(spoofing, staff.email, "wrong password").status_code == 422
    spoofing = _client_at(app, ATTACKER, X_FORWARDED_FOR="198.51.100.99")
    assert _wait(log_in(spoofing, staff.email)) > 10 * 60


def test_logins_work_while_redis_is_down(app, staff, caplog) -> None:
    """No Redis: the right password still logs in, a wrong one is still refused, and the outage is logged."""
    app.extensions["oncord.redis"] = Redis.from_url("redis://127.0.0.1:1/0")
    app.extensions.pop("oncord.login_throttle", None)
    client = _client_at(app, OWNER)
    with caplog.at_level(logging.WARNING, logger="oncord.accounts.throttle"):
        assert log_in(client, staff.email, "wrong password").status_code == 422
        assert log_in(client, staff.email).status_code == 303
    assert "login throttle unavailable" in caplog.text


def _change(client: FlaskClient, current: str, new: str = "fresh meadow lantern"):
    return post(client, "/account/password",
                {"current_password": current, "new_password": new, "confirm": new}, htmx=True)


def test_the_current_password_check_is_throttled_like_the_login(staff_client, staff, clock) -> None:
    """Five wrong current passwords stop the check (429, shown on the form) until the window passes."""
    for _ in range(5):
        assert _change(staff_client, "not my password").status_code == 422
    blocked = _change(staff_client, PASSWORD)
    assert _wait(blocked) > 10 * 60
    assert blocked.get_data(as_text=True).lstrip().startswith('<form id="password-form"')
    clock.advance(minutes=15, seconds=1)
    assert _change(staff_client, PASSWORD).status_code == 204


@pytest.mark.parametrize("weak", ["password12", "1234567890", "qwertyuiop", "reception@clinic.example"])
def test_common_and_guessable_passwords_are_refused_on_the_form(staff_client, weak) -> None:
    """A long but guessable new password comes back on the form with advice."""
    response = _change(staff_client, PASSWORD, weak)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "A few unrelated words make a good password" in body


def test_an_admin_cannot_give_a_new_user_a_common_password(admin_client) -> None:
    """Settings → Users refuses a common first password with the reason."""
    response = post(admin_client, "/settings/users",
                    {"email": "new@clinic.example", "password": "password12", "role": "staff"}, htmx=True)
    assert response.status_code == 422
    assert "common password" in response.get_data(as_text=True)


def test_users_create_refuses_a_common_password(cli) -> None:
    """`flask users create` refuses a common password with the reason and exit code 1."""
    result = cli.invoke(args=["users", "create", "--email", "b@clinic.example", "--password", "1234567890"])
    assert result.exit_code == 1
    assert "top-100 common password" in result.output
