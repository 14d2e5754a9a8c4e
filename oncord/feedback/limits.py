"""How often the public feedback page may record: per client address and per link.

A patient clicks once or twice; a script posting scores from one address, or hammering one link,
is stopped. Counted in Redis moving windows on the app clock, as the login throttle does
(oncord.accounts.throttle); when Redis is down answers are let through and the outage logged.
"""

from __future__ import annotations

import hashlib
import logging

from limits import parse
from limits.errors import StorageError
from limits.strategies import MovingWindowRateLimiter
from redis import Redis, RedisError

from oncord.accounts.throttle import ClockedRedisStorage
from oncord.clock import Clock

log = logging.getLogger(__name__)

PER_ADDRESS = parse("30/10 minutes")
PER_LINK = parse("10/10 minutes")


class FeedbackLimiter:
    """Takes one answer's worth from the address's and the link's allowance."""

    def __init__(self, redis: Redis, clock: Clock, prefix: str = "oncord:feedback") -> None:
        self.limiter = MovingWindowRateLimiter(ClockedRedisStorage(redis, clock, prefix))

    def allow(self, address: str, token: str) -> bool:
        """Whether this answer may be recorded now (and count it)."""
        # Only a hash of the token in Redis keys: the token is a patient's link.
        link = hashlib.sha256(token.encode()).hexdigest()[:32]
        try:
            return (self.limiter.hit(PER_ADDRESS, "address", address)
                    and self.limiter.hit(PER_LINK, "link", link))
        except (RedisError, StorageError):
            log.warning("feedback limiter unavailable: Redis did not answer", exc_info=True)
            return True
