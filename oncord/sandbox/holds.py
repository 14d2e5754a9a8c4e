"""Holds: matching API requests wait inside the sandbox until a test releases them.

A slowed request only makes a moment *likely* ("the worker is probably mid-page now"), which a
loaded machine misses. A held request makes it certain: the test waits until the sandbox is holding
the request, acts (kills the worker, starts a rival), then releases it. Every hold has a bounded
timeout, after which its requests go on as if released, so a forgotten hold cannot hang a thread.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

MAX_TIMEOUT = 300.0
MAX_WAIT = 120.0


@dataclass
class Hold:
    """Which requests to hold (path prefix, method), how many, after letting `skip` through."""

    path: str | None = None
    method: str | None = None
    count: int = 1
    skip: int = 0
    timeout: float = 30.0
    id: int = 0
    taken: int = 0  # requests this hold has caught so far
    waiting: int = 0  # of those, how many are waiting right now
    timed_out: int = 0  # of those, how many went on because the timeout passed
    released: bool = False

    def matches(self, method: str, path: str) -> bool:
        """Whether this hold still catches (or skips) a request like this one."""
        if self.released or self.taken >= self.count:
            return False
        if self.path is not None and not path.startswith(self.path):
            return False
        return self.method is None or method == self.method.upper()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready state."""
        return {
            "id": self.id, "path": self.path, "method": self.method, "count": self.count,
            "skip": self.skip, "timeout": self.timeout, "taken": self.taken, "waiting": self.waiting,
            "timed_out": self.timed_out, "released": self.released,
        }


def _check(hold: Hold) -> None:
    def whole(value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    if not whole(hold.count) or hold.count < 1:
        raise ValueError("count must be a whole number, at least 1")
    if not whole(hold.skip) or hold.skip < 0:
        raise ValueError("skip must be a whole number, 0 or more")
    if isinstance(hold.timeout, bool) or not isinstance(hold.timeout, int | float) or not (
        0 < hold.timeout <= MAX_TIMEOUT
    ):
        raise ValueError(f"timeout must be more than 0 and at most {MAX_TIMEOUT:g} seconds")
    for name in ("path", "method"):
        if getattr(hold, name) is not None and not isinstance(getattr(hold, name), str):
            raise ValueError(f"{name} must be a string")


class UnknownHold(LookupError):
    """No hold has this id."""


class HoldBoard:
    """The holds of one sandbox; one condition variable serves the held requests and the waiters."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._holds: dict[int, Hold] = {}
        self._next_id = 1

    def add(self, hold: Hold) -> Hold:
        """Start holding; raise ValueError when the settings make no sense."""
        _check(hold)
        with self._changed:
            hold.id = self._next_id
            self._next_id += 1
            self._holds[hold.id] = hold
        return hold

    def pass_through(self, method: str, path: str) -> None:
        """Called for each API request: return at once, or once released (or timed out)."""
        with self._changed:
            hold = next((h for h in self._holds.values() if h.matches(method, path)), None)
            if hold is None:
                return
            if hold.skip > 0:
                hold.skip -= 1
                return
            hold.taken += 1
            hold.waiting += 1
            self._changed.notify_all()
            released = self._changed.wait_for(lambda: hold.released, timeout=hold.timeout)
            hold.waiting -= 1
            if not released:
                hold.timed_out += 1
            self._changed.notify_all()

    def wait_until_waiting(self, hold_id: int, waiting: int = 1, timeout: float = 60.0) -> bool:
        """Block until `waiting` requests are being held by this hold; False if `timeout` passes first."""
        with self._changed:
            hold = self._get(hold_id)
            return self._changed.wait_for(lambda: hold.waiting >= waiting, timeout=min(timeout, MAX_WAIT))

    def release(self, hold_id: int) -> Hold:
        """Let this hold's requests go on, and catch no more."""
        with self._changed:
            hold = self._get(hold_id)
            hold.released = True
            self._changed.notify_all()
            return hold

    def release_all(self) -> None:
        """Release every hold (a sandbox that stops leaves no request waiting)."""
        with self._changed:
            for hold in self._holds.values():
                hold.released = True
            self._changed.notify_all()

    def state(self, hold_id: int) -> dict[str, Any]:
        """One hold's state."""
        with self._changed:
            return self._get(hold_id).as_dict()

    def states(self) -> list[dict[str, Any]]:
        """Every hold's state, oldest first."""
        with self._changed:
            return [h.as_dict() for h in self._holds.values()]

    def _get(self, hold_id: int) -> Hold:
        try:
            return self._holds[hold_id]
        except KeyError:
            raise UnknownHold(f"No hold {hold_id}") from None
