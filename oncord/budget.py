"""Cliniko's request budget, shared in Redis by every web and worker process using one API key.

Cliniko allows 200 requests a minute per user (the key's owner), whichever process sends them,
so the budget is counted where every process sees it: a `limits` moving window in Redis, taken
before each request is sent. Bulk work (pulls) takes from two windows, its own and the total,
so it can use at most `bulk_per_window` of the total and the rest stays free for staff actions,
pushes and pre-send refreshes, which take from the total only. A moving window (not a fixed
one) means no span of `window_seconds` ever holds more than the limit, whatever the phase of
Cliniko's own window. The entries are stamped with each process's clock, so every process
should run on machines with synchronised clocks (NTP), as usual for servers.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter

from oncord.config import Settings

log = logging.getLogger(__name__)

NAMESPACE = "oncord-cliniko"
# A wait is never shorter than this: the window frees a slot at a known time, and asking Redis
# again sooner only costs round trips.
MIN_WAIT_SECONDS = 0.01

_storages: dict[str, RedisStorage] = {}
_storages_lock = threading.Lock()


def _storage(redis_url: str) -> RedisStorage:
    """One storage (and connection pool) per Redis URL per process; redis-py re-opens it after a fork."""
    with _storages_lock:
        storage = _storages.get(redis_url)
        if storage is None:
            storage = _storages[redis_url] = RedisStorage(redis_url)
        return storage


def key_id(api_key: str) -> str:
    """A stable name for the key's budget that reveals nothing of the key (its shard suffix ignored)."""
    key = api_key.strip()
    head, hyphen, _shard = key.rpartition("-")
    body = head if hyphen and head else key
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class BudgetLimits:
    """How many requests fit in one window, in all and for bulk work."""

    per_window: int
    bulk_per_window: int
    window_seconds: int

    @classmethod
    def from_settings(cls, settings: Settings) -> BudgetLimits:
        """The limits the configuration asks for (bulk never above the total)."""
        total = max(1, settings.cliniko_requests_per_minute)
        bulk = min(total, max(1, settings.cliniko_bulk_requests_per_minute))
        return cls(total, bulk, max(1, settings.cliniko_rate_window_seconds))

    def items(self) -> tuple[RateLimitItem, RateLimitItem]:
        """The total and bulk windows as `limits` items."""
        return (
            RateLimitItemPerSecond(self.per_window, self.window_seconds, namespace=NAMESPACE),
            RateLimitItemPerSecond(self.bulk_per_window, self.window_seconds, namespace=f"{NAMESPACE}-bulk"),
        )


@dataclass(frozen=True)
class BudgetUse:
    """What the last window spent, for the Integrations screen."""

    used: int
    per_window: int
    bulk_used: int
    bulk_per_window: int
    window_seconds: int


class SharedBudget:
    """The budget of one API key; `bulk` marks a client whose requests are bulk work."""

    def __init__(
        self,
        redis_url: str,
        api_key: str,
        limits: BudgetLimits,
        *,
        bulk: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._storage = _storage(redis_url)
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._key = key_id(api_key)
        self.limits = limits
        self._total, self._bulk = limits.items()
        # Bulk first: a bulk slot taken while the total is full costs only a little bulk headroom.
        self._windows = (self._bulk, self._total) if bulk else (self._total,)
        self._sleep = sleep
        self._clock = clock

    def acquire(self) -> float:
        """Wait until the request fits every window it counts against; return the seconds waited."""
        waited = 0.0
        try:
            for item in self._windows:
                while not self._limiter.hit(item, self._key):
                    reset_at = self._limiter.get_window_stats(item, self._key).reset_time
                    delay = min(max(reset_at - self._clock(), MIN_WAIT_SECONDS), self.limits.window_seconds)
                    self._sleep(delay)
                    waited += delay
        except self._storage.base_exceptions as exc:
            # Without Redis the request still goes: Cliniko's 429s are honoured by the client.
            log.warning("Cliniko request budget unavailable (Redis: %s); sending unpaced", type(exc).__name__)
        return waited

    def use(self) -> BudgetUse:
        """Requests taken in the current window, in all and by bulk work."""
        total = self._limiter.get_window_stats(self._total, self._key)
        bulk = self._limiter.get_window_stats(self._bulk, self._key)
        return BudgetUse(
            used=self.limits.per_window - total.remaining,
            per_window=self.limits.per_window,
            bulk_used=self.limits.bulk_per_window - bulk.remaining,
            bulk_per_window=self.limits.bulk_per_window,
            window_seconds=self.limits.window_seconds,
        )


def budget_for(settings: Settings, api_key: str, *, bulk: bool = False) -> SharedBudget:
    """The shared budget of this key, as the configuration sets it."""
    return SharedBudget(settings.redis_url, api_key, BudgetLimits.from_settings(settings), bulk=bulk)
