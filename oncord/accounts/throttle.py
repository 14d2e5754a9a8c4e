"""Login throttling that protects accounts without shutting the clinic out.

Wrong passwords (at login, and for the current password on the change-password form) are
counted in moving windows kept in Redis by `limits`, three ways (`LOGIN_POLICY`):

- per account *and* client address: after 5 in 15 minutes that address may not try that
  account again until the oldest of them is 15 minutes old. This stops a guesser at one address.
- per account from any address: after 5 in 15 minutes every further try waits 10 s after the
  last failure, after 10 in 15 minutes 30 s, after 20 in an hour 60 s. Guessing spread over many
  addresses is slowed to one try a minute, and the owner, from their own address, waits at most
  that minute: a growing delay, never a lock-out.
- per client address, any account: after 30 in 15 minutes 10 s, after 100 in an hour 60 s. Behind
  a shared address (a clinic's NAT, a proxy without TRUSTED_PROXY_COUNT) nobody waits longer.

An unknown e-mail is counted like a known one, so probing for accounts is throttled too. Windows
are read from the app clock (tests move it; nothing sleeps). When Redis is down, tries are allowed
and the outage is logged: staff can still log in.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter
from redis import Redis, RedisError

from oncord.clock import Clock

log = logging.getLogger(__name__)


class ClockedRedisStorage(RedisStorage):
    """`limits`' Redis storage with its moving-window timestamps taken from the app clock."""

    STORAGE_SCHEME: list[str] = []  # no URI scheme of its own: built from the app's Redis client

    def __init__(self, redis: Redis, clock: Clock, key_prefix: str) -> None:
        self.clock = clock
        super().__init__("redis://", connection_pool=redis.connection_pool, key_prefix=key_prefix)

    def _now(self) -> float:
        return self.clock.now().timestamp()

    # The two moving-window calls of RedisStorage, with time.time() replaced by the app clock.
    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """The oldest entry still inside the window and how many entries are inside it."""
        timestamp = self._now()
        if window := self.lua_moving_window([self.prefixed_key(key)], [timestamp - expiry, limit]):
            return float(window[0]), int(window[1])
        return timestamp, 0

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """Add an entry now unless the window already holds `limit`."""
        args = [self._now(), limit, expiry, amount]
        return bool(self.lua_acquire_moving_window([self.prefixed_key(key)], args))


@dataclass(frozen=True)
class Tier:
    """After `failures` within their window, each try waits `delay` after the last failure.

    Without a delay, tries wait until the oldest failure leaves the window (a block).
    """

    failures: RateLimitItem
    delay: RateLimitItem | None = None


def tier(failures: str, delay: str | None = None) -> Tier:
    """A tier from `limits` notation: tier("5/15 minutes", "1/10 seconds")."""
    return Tier(parse(failures), parse(delay) if delay else None)


@dataclass(frozen=True)
class Policy:
    """The tiers for each way failures are counted."""

    per_account_and_address: tuple[Tier, ...]
    per_account: tuple[Tier, ...]
    per_address: tuple[Tier, ...]


LOGIN_POLICY = Policy(
    per_account_and_address=(tier("5/15 minutes"),),
    per_account=(tier("5/15 minutes", "1/10 seconds"), tier("10/15 minutes", "1/30 seconds"),
                 tier("20/hour", "1/minute")),
    per_address=(tier("30/15 minutes", "1/10 seconds"), tier("100/hour", "1/minute")),
)


class LoginThrottle:
    """Checks and records wrong passwords under a `Policy`."""

    def __init__(self, redis: Redis, clock: Clock, policy: Policy = LOGIN_POLICY,
                 prefix: str = "oncord:login") -> None:
        self.limiter = MovingWindowRateLimiter(ClockedRedisStorage(redis, clock, prefix))
        self.policy = policy

    def _scopes(self, email: str, address: str) -> Iterator[tuple[tuple[Tier, ...], tuple[str, ...]]]:
        # The e-mail is hashed: Redis keys are no place for staff addresses.
        account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        yield self.policy.per_account_and_address, ("pair", account, address)
        yield self.policy.per_account, ("account", account)
        yield self.policy.per_address, ("address", address)

    def retry_after(self, email: str, address: str, now: datetime) -> int:
        """Seconds until this e-mail may be tried from this address; 0 when a try is allowed now."""
        try:
            return self._retry_after(email, address, now)
        except (RedisError, StorageError):
            # Failing open keeps the clinic working while Redis is down; the outage is logged.
            log.warning("login throttle unavailable: Redis did not answer", exc_info=True)
            return 0

    def _retry_after(self, email: str, address: str, now: datetime) -> int:
        until = now.timestamp()
        for tiers, ids in self._scopes(email, address):
            for step in tiers:
                if self.limiter.test(step.failures, *ids):
                    continue
                blocked_until = self.limiter.get_window_stats(step.failures, *ids).reset_time
                if step.delay is not None:
                    if self.limiter.test(step.delay, *ids):
                        continue
                    delay_ends = self.limiter.get_window_stats(step.delay, *ids).reset_time
                    blocked_until = min(blocked_until, delay_ends)
                until = max(until, blocked_until)
        return math.ceil(until - now.timestamp())

    def record_failure(self, email: str, address: str) -> None:
        """Count one wrong password for the e-mail, the address and the two together."""
        try:
            for tiers, ids in self._scopes(email, address):
                for item in {step.failures for step in tiers}:
                    self.limiter.hit(item, *ids)
                for item in {step.delay for step in tiers if step.delay is not None}:
                    # Only the latest failure matters for a delay: start its window afresh.
                    self.limiter.clear(item, *ids)
                    self.limiter.hit(item, *ids)
        except (RedisError, StorageError):
            log.warning("login throttle unavailable: failure not counted", exc_info=True)

    def reset(self, email: str, address: str) -> None:
        """Forget this address's failures for the e-mail after the right password.

        The account's and the address's own counts stay: someone else may be guessing.
        """
        tiers, ids = next(self._scopes(email, address))
        try:
            for step in tiers:
                self.limiter.clear(step.failures, *ids)
        except (RedisError, StorageError):
            log.warning("login throttle unavailable: failures not reset", exc_info=True)


def wait_message(seconds: int) -> str:
    """What staff read when a try must wait (rounded up to whole seconds or minutes)."""
    if seconds < 60:
        amount = f"{seconds} second{'s' if seconds != 1 else ''}"
    else:
        minutes = -(-seconds // 60)
        amount = f"{minutes} minute{'s' if minutes != 1 else ''}"
    return (f"Too many wrong passwords. Wait {amount} and try again, or ask an admin to check "
            "your e-mail address.")
