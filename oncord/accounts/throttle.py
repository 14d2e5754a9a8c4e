"""Login throttling in Redis: too many wrong passwords lock an e-mail (and an address) for a while.

Counts live in fixed windows numbered from the app clock, and a check adds the previous window,
so a burst across a window boundary is still counted. Tests move the clock instead of sleeping.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

from redis import Redis, RedisError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoginThrottle:
    """Failure counters per e-mail and per client address."""

    redis: Redis
    max_per_email: int = 5
    max_per_address: int = 30
    window_seconds: int = 15 * 60
    prefix: str = "oncord:login-failures"

    def _window(self, now: datetime) -> int:
        return int(now.timestamp()) // self.window_seconds

    def _keys(self, email: str, address: str, window: int) -> tuple[str, str]:
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        return (f"{self.prefix}:email:{digest}:{window}", f"{self.prefix}:addr:{address}:{window}")

    def retry_after(self, email: str, address: str, now: datetime) -> int:
        """Seconds until this e-mail/address may try again; 0 when a try is allowed now."""
        window = self._window(now)
        current, previous = self._keys(email, address, window), self._keys(email, address, window - 1)
        try:
            values = self.redis.mget([current[0], previous[0], current[1], previous[1]])
        except RedisError:
            # Failing open keeps the clinic working while Redis is down; the outage is logged.
            log.warning("login throttle unavailable: Redis did not answer", exc_info=True)
            return 0
        email_now, email_before, addr_now, addr_before = (int(v or 0) for v in values)
        next_window = (window + 1) * self.window_seconds - int(now.timestamp())
        for now_count, before_count, limit in (
            (email_now, email_before, self.max_per_email),
            (addr_now, addr_before, self.max_per_address),
        ):
            if now_count >= limit:
                return next_window + self.window_seconds
            if now_count + before_count >= limit:
                return next_window
        return 0

    def record_failure(self, email: str, address: str, now: datetime) -> None:
        """Count one wrong password for the e-mail and the address."""
        keys = self._keys(email, address, self._window(now))
        try:
            with self.redis.pipeline() as pipe:
                for key in keys:
                    pipe.incr(key)
                    pipe.expire(key, self.window_seconds * 3)
                pipe.execute()
        except RedisError:
            log.warning("login throttle unavailable: failure not counted", exc_info=True)

    def reset(self, email: str, address: str, now: datetime) -> None:
        """Forget the e-mail's failures after a successful login (the address keeps its count)."""
        window = self._window(now)
        try:
            self.redis.delete(
                self._keys(email, address, window)[0], self._keys(email, address, window - 1)[0]
            )
        except RedisError:
            log.warning("login throttle unavailable: failures not reset", exc_info=True)
