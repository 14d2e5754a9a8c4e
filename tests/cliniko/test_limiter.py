"""The client-side sliding-window limiter."""

from __future__ import annotations

import pytest

from oncord.cliniko.limiter import SlidingWindowLimiter
from tests.cliniko.conftest import FakeTime


def test_waits_only_when_the_window_is_full():
    """Three per minute: the fourth request waits for the first to leave the window."""
    time = FakeTime()
    limiter = SlidingWindowLimiter(3, clock=time.clock, sleep=time.sleep)
    assert [limiter.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire() == 60.0
    assert time.sleeps == [60.0]


def test_spread_out_requests_never_wait():
    """Requests slower than the limit are never delayed."""
    time = FakeTime()
    limiter = SlidingWindowLimiter(2, clock=time.clock, sleep=time.sleep)
    for _ in range(10):
        assert limiter.acquire() == 0.0
        time.now += 31
    assert time.sleeps == []


def test_wait_is_only_the_remainder_of_the_window():
    """A request 20 s after the window filled waits the remaining 40 s."""
    time = FakeTime()
    limiter = SlidingWindowLimiter(2, clock=time.clock, sleep=time.sleep)
    limiter.acquire()
    time.now += 20
    limiter.acquire()
    assert limiter.acquire() == pytest.approx(40.0)


def test_never_more_than_limit_in_any_window():
    """Over many requests, no 60 s span ever holds more than the limit."""
    time = FakeTime()
    limiter = SlidingWindowLimiter(5, clock=time.clock, sleep=time.sleep)
    sent = []
    for i in range(40):
        limiter.acquire()
        sent.append(time.now)
        time.now += 0.5 * (i % 3)
    for start in sent:
        assert sum(1 for t in sent if start <= t < start + 60) <= 5


def test_clock_going_backwards_never_waits_longer_than_a_window():
    """A wall clock set back an hour does not stall the sync for an hour."""
    time = FakeTime()
    limiter = SlidingWindowLimiter(1, clock=time.clock, sleep=time.sleep)
    limiter.acquire()
    time.now -= 3600
    assert limiter.acquire() <= 60.0


def test_no_op_sleep_cannot_spin_forever():
    """A sleep that does not move the clock still lets the next request through."""
    limiter = SlidingWindowLimiter(1, clock=lambda: 100.0, sleep=lambda s: None)
    limiter.acquire()
    assert limiter.acquire() == 60.0
