"""A client-side sliding-window limiter that keeps requests under Cliniko's per-minute cap."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable


class SlidingWindowLimiter:
    """Allow at most `limit` acquisitions in any `window` seconds, sleeping when full."""

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if window <= 0:
            raise ValueError("window must be positive")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait until one more request fits in the window, record it, and return seconds waited."""
        waited = 0.0
        with self._lock:
            while True:
                now = self._clock()
                self._forget_old(now)
                if len(self._sent) < self.limit:
                    self._sent.append(now)
                    return waited
                delay = min(max(self._sent[0] + self.window - now, 0.0), self.window)
                if delay > 0:
                    self._sleep(delay)
                    waited += delay
                # The oldest entry has now left the window. Dropping it here, rather than
                # trusting the clock to have moved, means a sleep that returns early (or a
                # test's no-op sleep) can never spin this loop forever.
                self._sent.popleft()

    def _forget_old(self, now: float) -> None:
        cutoff = now - self.window
        if self._sent and self._sent[-1] > now:
            # The wall clock went backwards: treat "future" entries as sent now, so they still
            # count against the budget but can never demand a wait longer than one window.
            self._sent = deque(min(t, now) for t in self._sent)
        while self._sent and self._sent[0] <= cutoff:
            self._sent.popleft()
