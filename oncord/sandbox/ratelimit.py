"""Cliniko's per-key request budget: N requests per fixed window, then 429 until it resets."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass


@dataclass
class _Window:
    started: float
    used: int


class RateLimiter:
    """Fixed-window limiter; times come from the caller so tests can move the clock."""

    def __init__(self, limit: int | None = 200, window_seconds: float = 60.0) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}
        self.configure(limit, window_seconds)

    def configure(self, limit: int | None, window_seconds: float = 60.0) -> None:
        """Set the budget (None turns limiting off) and start every key's window afresh."""
        if limit is not None and limit < 1:
            raise ValueError("limit must be at least 1, or None for no limit")
        if not window_seconds > 0:
            raise ValueError("window_seconds must be positive")
        with self._lock:
            self.limit = limit
            self.window_seconds = float(window_seconds)
            self._windows.clear()

    def hit(self, key: str, now: float) -> int | None:
        """Count one request; return None if allowed, else the epoch second the window resets."""
        if self.limit is None:
            return None
        with self._lock:
            window = self._windows.get(key)
            if window is None or now >= window.started + self.window_seconds:
                window = self._windows[key] = _Window(started=now, used=0)
            if window.used >= self.limit:
                return math.ceil(window.started + self.window_seconds)
            window.used += 1
            return None
