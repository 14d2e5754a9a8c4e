"""What the client asks before every send: a request budget it is given, never one it builds.

The budget shared by every process lives outside this package (`oncord.budget`, Redis), so the
client stays a plain HTTP client; here is only the shape it relies on, and a budget of none.
"""

from __future__ import annotations

from typing import Protocol


class RequestBudget(Protocol):
    """Something that lets one more request go, waiting first if the budget is spent."""

    def acquire(self) -> float:
        """Wait until one more request fits, take it, and return the seconds waited."""
        ...


class Unlimited:
    """No client-side pacing (scripts and tests); Cliniko's 429s are still honoured."""

    def acquire(self) -> float:
        """Let the request go at once."""
        return 0.0
