"""The login throttle's policy, read directly (the HTTP side is tests/web/test_login_policy.py)."""

from __future__ import annotations

from redis import Redis

from oncord.accounts.throttle import LoginThrottle


def test_a_guesser_at_one_address_is_blocked_but_the_owner_elsewhere_only_waits(redis_conn, clock) -> None:
    """Five failures block that address from that account for 15 minutes; from another address the
    account's owner waits only the growing delay after the last failure."""
    throttle = LoginThrottle(redis_conn, clock)
    for _ in range(5):
        assert throttle.retry_after("a@x", "1.1.1.1", clock.now()) == 0
        throttle.record_failure("A@x", "1.1.1.1")
    assert 10 * 60 < throttle.retry_after("a@x", "1.1.1.1", clock.now()) <= 15 * 60
    assert 0 < throttle.retry_after("a@x", "9.9.9.9", clock.now()) <= 10
    clock.advance(seconds=11)
    assert throttle.retry_after("a@x", "9.9.9.9", clock.now()) == 0
    assert throttle.retry_after("a@x", "1.1.1.1", clock.now()) > 0
    clock.advance(minutes=15)
    assert throttle.retry_after("a@x", "1.1.1.1", clock.now()) == 0


def test_an_address_trying_many_accounts_only_slows_down(redis_conn, clock) -> None:
    """Thirty failures from one address across accounts cost every account there a short delay, no block."""
    throttle = LoginThrottle(redis_conn, clock)
    for i in range(30):
        throttle.record_failure(f"user{i}@x", "2.2.2.2")
    assert 0 < throttle.retry_after("someone-else@x", "2.2.2.2", clock.now()) <= 10
    assert throttle.retry_after("someone-else@x", "3.3.3.3", clock.now()) == 0
    clock.advance(seconds=11)
    assert throttle.retry_after("someone-else@x", "2.2.2.2", clock.now()) == 0


def test_the_right_password_forgets_that_address_only(redis_conn, clock) -> None:
    """After a successful login the address starts afresh for the account (no block after one more
    failure), while the account's own count, which another guesser may share, keeps its delay."""
    throttle = LoginThrottle(redis_conn, clock)
    for _ in range(4):
        throttle.record_failure("a@x", "1.1.1.1")
    throttle.reset("a@x", "1.1.1.1")
    throttle.record_failure("a@x", "1.1.1.1")
    assert 0 < throttle.retry_after("a@x", "1.1.1.1", clock.now()) <= 10
    clock.advance(seconds=11)
    assert throttle.retry_after("a@x", "1.1.1.1", clock.now()) == 0


def test_redis_down_fails_open(clock) -> None:
    """Without Redis, logins still work (the outage is logged)."""
    throttle = LoginThrottle(Redis(port=1, socket_connect_timeout=0.2), clock)
    throttle.record_failure("a@x", "1.1.1.1")
    assert throttle.retry_after("a@x", "1.1.1.1", clock.now()) == 0
