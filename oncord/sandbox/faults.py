"""Injected failures for the next N API requests, and the log of requests the sandbox served."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

FAULT_KINDS = ("rate_limit", "server_error", "slow", "validation", "invalid_json")
_WRITE_METHODS = ("POST", "PUT", "PATCH")


@dataclass
class Fault:
    """One injected fault: what to answer, how many more times, and which requests it hits."""

    kind: str
    times: int = 1
    delay: float = 0.0  # slow: seconds to wait before answering normally
    status: int = 500  # server_error: the 5xx status to send
    field: str = "first_name"  # validation: the field named in the 422
    message: str = "is invalid"  # validation: its message
    reset_in: float = 1.0  # rate_limit: seconds until X-RateLimit-Reset
    path: str | None = None  # only requests whose path starts with this
    method: str | None = None  # only requests with this method
    id: int = 0

    def matches(self, method: str, path: str) -> bool:
        """Whether this fault applies to a request."""
        if self.path is not None and not path.startswith(self.path):
            return False
        if self.method is not None:
            return method == self.method.upper()
        # A validation error only makes sense as the answer to a write.
        return self.kind != "validation" or method in _WRITE_METHODS


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return _is_int(value) or isinstance(value, float)


class FaultInjector:
    """A thread-safe queue of faults; each request consumes at most one matching fault."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._next_id = 1

    def add(self, fault: Fault) -> Fault:
        """Queue a fault after checking its settings; raise ValueError when they make no sense."""
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}")
        if not _is_int(fault.times) or fault.times < 1:
            raise ValueError("times must be a whole number, at least 1")
        if not _is_number(fault.delay) or not 0 <= fault.delay <= 120:
            raise ValueError("delay must be 0-120 seconds")
        if not _is_number(fault.reset_in) or not 0 <= fault.reset_in <= 86_400:
            raise ValueError("reset_in must be 0-86400 seconds")
        if not _is_int(fault.status) or not 500 <= fault.status <= 599:
            raise ValueError("status must be a 5xx code")
        for name in ("field", "message"):
            if not isinstance(getattr(fault, name), str):
                raise ValueError(f"{name} must be a string")
        for name in ("path", "method"):
            if getattr(fault, name) is not None and not isinstance(getattr(fault, name), str):
                raise ValueError(f"{name} must be a string")
        with self._lock:
            fault.id = self._next_id
            self._next_id += 1
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """Consume one use of the first fault matching this request, if any."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def pending(self) -> list[dict[str, Any]]:
        """The queued faults, as JSON-ready dicts."""
        with self._lock:
            return [asdict(f) for f in self._faults]

    def clear(self) -> None:
        """Drop every queued fault."""
        with self._lock:
            self._faults.clear()


@dataclass
class RequestLog:
    """Counts API requests and keeps the most recent ones for tests to inspect."""

    keep: int = 10_000
    count: int = 0
    _entries: deque = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, entry: dict[str, Any]) -> None:
        """Record one request."""
        with self._lock:
            self.count += 1
            self._entries.append(entry)
            if len(self._entries) > self.keep:
                self._entries.popleft()

    def entries(self) -> list[dict[str, Any]]:
        """The most recent requests, oldest first."""
        with self._lock:
            return list(self._entries)

    def reset(self) -> None:
        """Forget all requests and restart the count."""
        with self._lock:
            self.count = 0
            self._entries.clear()
