"""Helpers for the sandbox's own tests: an HTTP session bound to a sandbox, and a movable clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from oncord.sandbox.server import RunningSandbox

USER_AGENT = "Oncord sandbox tests (dev@example.com)"
START = datetime(2026, 11, 20, 23, 0, 0, tzinfo=UTC)


class MovableClock:
    """A callable clock for `start_sandbox(clock=...)` that only moves when told to."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Api:
    """A requests session that talks to one sandbox the way a well-behaved client does."""

    def __init__(self, sandbox: RunningSandbox) -> None:
        self.sandbox = sandbox
        self.session = requests.Session()
        self.session.auth = (sandbox.api_key, "")
        self.session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})

    def get(self, path: str, params: Any = None, **kwargs: Any) -> requests.Response:
        return self.session.get(self.sandbox.base_url + path, params=params, timeout=10, **kwargs)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.sandbox.base_url + path, timeout=10, **kwargs)

    def all(self, path: str, q: list[str] | tuple[str, ...] = (), **params: Any) -> list[dict[str, Any]]:
        """Every record of a list endpoint, following links.next."""
        response = self.get(path, params={"per_page": 100, "q[]": list(q), **params})
        segments = path.strip("/").split("/")
        # /practitioners/inactive lists practitioners; /group_appointments/{id}/attendees attendees.
        key = segments[2] if len(segments) == 3 else segments[0]
        records: list[dict[str, Any]] = []
        while True:
            assert response.status_code == 200, response.text
            body = response.json()
            records += body[key]
            following = body["links"].get("next")
            if following is None:
                return records
            response = self.session.get(following, timeout=10)

    def close(self) -> None:
        self.session.close()


@pytest.fixture
def api(sandbox: RunningSandbox) -> Iterator[Api]:
    """A session on the default test sandbox."""
    client = Api(sandbox)
    yield client
    client.close()


@pytest.fixture
def sandbox_clock() -> MovableClock:
    """A clock frozen at START for sandboxes started with `clock=`."""
    return MovableClock()


@pytest.fixture
def api_for() -> Iterator[Any]:
    """Open sessions on sandboxes from `sandbox_factory`; closes them after the test."""
    opened: list[Api] = []

    def make(sandbox: RunningSandbox) -> Api:
        client = Api(sandbox)
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.close()
