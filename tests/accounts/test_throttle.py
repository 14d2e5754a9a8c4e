"""The login throttle's windows, limits and reset."""

from __future__ import annotations

from datetime import timedelta

from redis import Redis

from oncord.accounts.throttle import LoginThrottle


def test_blocks_after_limit_and_frees_after_two_windows(redis_conn, clock) -> None:
    """Five failures block the e-mail; failures keep counting across one window boundary."""
    throttle = LoginThrottle(redis_conn)
    for _ in range(5):
        assert throttle.retry_after("a@x", "1.1.1.1", clock.now()) == 0
        throttle.record_failure("A@x", "1.1.1.1", clock.now())
    wait = throttle.retry_after("a@x", "9.9.9.9", clock.now())
    assert 15 * 60 < wait <= 30 * 60
    clock.advance(minutes=15)
    assert throttle.retry_after("a@x", "9.9.9.9", clock.now()) > 0  # the previous window still counts
    clock.advance(minutes=15)
    assert throttle.retry_after("a@x", "9.9.9.9", clock.now()) == 0


def test_address_limit_covers_many_emails(redis_conn, clock) -> None:
    """One address trying many e-mails is blocked too."""
    throttle = LoginThrottle(redis_conn, max_per_address=3)
    for i in range(3):
        throttle.record_failure(f"user{i}@x", "2.2.2.2", clock.now())
    assert throttle.retry_after("someone-else@x", "2.2.2.2", clock.now()) > 0
    assert throttle.retry_after("someone-else@x", "3.3.3.3", clock.now()) == 0


def test_success_resets_the_email(redis_conn, clock) -> None:
    """A successful login clears the e-mail's failures."""
    throttle = LoginThrottle(redis_conn)
    for _ in range(4):
        throttle.record_failure("a@x", "1.1.1.1", clock.now())
    throttle.reset("a@x", "1.1.1.1", clock.now())
    throttle.record_failure("a@x", "1.1.1.1", clock.now() + timedelta(seconds=1))
    assert throttle.retry_after("a@x", "1.1.1.1", clock.now()) == 0


def test_redis_down_fails_open(clock) -> None:
    """Without Redis, logins still work (the outage is logged)."""
    throttle = LoginThrottle(Redis(port=1, socket_connect_timeout=0.2))
    throttle.record_failure("a@x", "1.1.1.1", clock.now())
    assert throttle.retry_after("a@x", "1.1.1.1", clock.now()) == 0
