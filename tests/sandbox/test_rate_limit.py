"""Cliniko's per-key budget: 429 with X-RateLimit-Reset once spent, on an injected clock."""

from __future__ import annotations

import calendar

from tests.sandbox.conftest import START

START_EPOCH = calendar.timegm(START.timetuple())


def test_budget_then_429_until_the_window_resets(sandbox_factory, sandbox_clock, api_for):
    """After N requests in the window the next is 429 with the reset epoch and no Retry-After."""
    api = api_for(sandbox_factory(rate_limit=3, rate_window_seconds=60, clock=sandbox_clock))
    assert [api.get("/user").status_code for _ in range(3)] == [200, 200, 200]
    sandbox_clock.advance(59)
    refused = api.get("/patients")
    assert refused.status_code == 429
    assert refused.headers["X-RateLimit-Reset"] == str(START_EPOCH + 60)
    assert "Retry-After" not in refused.headers
    assert api.get("/user").status_code == 429
    sandbox_clock.advance(1)
    assert api.get("/user").status_code == 200


def test_the_key_with_and_without_suffix_share_one_budget(sandbox_factory, sandbox_clock, api_for):
    """The budget belongs to the key's user, however the key is written."""
    sandbox = sandbox_factory(rate_limit=2, clock=sandbox_clock)
    api = api_for(sandbox)
    assert api.get("/user").status_code == 200
    api.session.auth = (sandbox.api_key.rsplit("-", 1)[0], "")
    assert api.get("/user").status_code == 200
    assert api.get("/user").status_code == 429


def test_default_is_200_per_minute_and_it_can_be_turned_off(sandbox_factory, sandbox_clock, api_for):
    """The default budget is Cliniko's 200/min; `rate_limit=None` or set_rate_limit(None) lifts it."""
    limited = sandbox_factory(rate_limit=200, clock=sandbox_clock)
    assert limited.store.rate_limiter.limit == 200
    api = api_for(limited)
    assert all(api.get("/user").status_code == 200 for _ in range(200))
    assert api.get("/user").status_code == 429
    limited.store.set_rate_limit(None)
    assert all(api.get("/user").status_code == 200 for _ in range(20))
    unlimited = api_for(sandbox_factory(rate_limit=None))
    assert all(unlimited.get("/user").status_code == 200 for _ in range(20))


def test_refused_requests_do_not_count(sandbox_factory, sandbox_clock, api_for):
    """Requests refused before authentication do not spend the key's budget."""
    api = api_for(sandbox_factory(rate_limit=1, clock=sandbox_clock))
    api.session.headers["User-Agent"] = ""
    assert api.get("/user").status_code == 403
    api.session.headers["User-Agent"] = "Tests (dev@example.com)"
    assert api.get("/user").status_code == 200
