"""The Cliniko request budget every process shares: a moving window in the real test Redis."""

from __future__ import annotations

import time

import pytest

from oncord.budget import BudgetLimits, SharedBudget, key_id

KEY = "MS0xMjM0NTY3ODkwLXNlY3JldC1rZXktdmFsdWU-au2"


class WouldWait(Exception):
    """Raised by a sleep that proves the budget asked to wait."""


def refuse_to_wait(seconds: float) -> None:
    raise WouldWait(seconds)


class RealSleep:
    """Sleeps for real (the window is Redis time) and remembers each wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        time.sleep(seconds)


def test_two_processes_share_one_window(redis_url, redis_conn) -> None:
    """Budgets built separately (as in two processes) for one key draw on the same window."""
    limits = BudgetLimits(per_window=3, bulk_per_window=3, window_seconds=1)
    web = SharedBudget(redis_url, KEY, limits, sleep=refuse_to_wait)
    sleep = RealSleep()
    worker = SharedBudget(redis_url, KEY, limits, sleep=sleep)
    assert [web.acquire(), worker.acquire(), web.acquire()] == [0.0, 0.0, 0.0]
    with pytest.raises(WouldWait):
        web.acquire()
    started = time.monotonic()
    assert worker.acquire() > 0
    # It waited for the oldest request to leave the window, not a whole window per try.
    assert 0.0 < time.monotonic() - started < 2.0
    assert sleep.waits and all(0 < w <= 1.0 for w in sleep.waits)


def test_bulk_pulls_leave_headroom_for_staff_actions(redis_url, redis_conn) -> None:
    """Bulk work stops at its share; staff actions and refreshes still go at once."""
    limits = BudgetLimits(per_window=5, bulk_per_window=3, window_seconds=60)
    pull = SharedBudget(redis_url, KEY, limits, bulk=True, sleep=refuse_to_wait)
    staff = SharedBudget(redis_url, KEY, limits, sleep=refuse_to_wait)
    for _ in range(3):
        assert pull.acquire() == 0.0
    with pytest.raises(WouldWait):
        pull.acquire()
    assert [staff.acquire(), staff.acquire()] == [0.0, 0.0]
    # The total is spent now: staff wait too, so the real limit is never passed.
    with pytest.raises(WouldWait):
        staff.acquire()
    use = staff.use()
    assert (use.used, use.per_window, use.bulk_used, use.bulk_per_window) == (5, 5, 3, 3)


def test_each_key_has_its_own_budget_and_the_key_is_not_stored(redis_url, redis_conn) -> None:
    """Another account's requests do not count against this one; Redis holds only a hash of the key."""
    limits = BudgetLimits(per_window=1, bulk_per_window=1, window_seconds=60)
    assert SharedBudget(redis_url, KEY, limits, sleep=refuse_to_wait).acquire() == 0.0
    other = "MS0wOTg3NjU0MzIxLW90aGVyLWtleS12YWx1ZQ-au2"
    assert SharedBudget(redis_url, other, limits, sleep=refuse_to_wait).acquire() == 0.0
    stored = b" ".join(redis_conn.keys("*"))
    assert KEY.split("-")[0].encode() not in stored
    assert key_id(KEY).encode() in stored
    # The same key without its shard suffix is the same Cliniko user, so the same budget.
    assert key_id(KEY) == key_id(KEY.rsplit("-", 1)[0])


def test_without_redis_requests_still_go(caplog) -> None:
    """Redis down: the request is sent unpaced (Cliniko's 429s still rule) and the log says why."""
    limits = BudgetLimits(per_window=1, bulk_per_window=1, window_seconds=60)
    budget = SharedBudget("redis://127.0.0.1:1/0", KEY, limits, sleep=refuse_to_wait)
    assert budget.acquire() == 0.0
    assert "budget unavailable" in caplog.text
    assert KEY not in caplog.text
