"""A Cliniko client session that lets a test act while a PATCH is in flight."""

from __future__ import annotations

from collections.abc import Callable

import requests


class PatchHook(requests.Session):
    """A requests session for the Cliniko client that runs `during` once, after Cliniko has taken the
    first PATCH and before its answer reaches the push: the edit made "while the request was in flight"."""

    def __init__(self, during: Callable[[], None]) -> None:
        super().__init__()
        self.during: Callable[[], None] | None = during

    def send(self, request, **kwargs):  # type: ignore[override]
        """Send, then run the hook on the first PATCH."""
        response = super().send(request, **kwargs)
        if request.method == "PATCH" and self.during is not None:
            during, self.during = self.during, None
            during()
        return response
