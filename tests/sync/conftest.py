"""Fixtures for syncing the test app with a sandbox over real HTTP."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from oncord.models import SyncRun
from tests.fixtures.cliniko import connect_to_sandbox, pull_in_process


@pytest.fixture
def sandbox(sandbox_factory, clock):
    """A small sandbox on the test's clock, so Cliniko-side edits happen at test time."""
    return sandbox_factory(clock=clock.now)


class RecordingSleep:
    """Stands in for time.sleep in the Cliniko client: remembers waits, takes no time."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def client_sleep(app: Flask) -> RecordingSleep:
    """The client's injected sleep, so 429 and retry waits cost no real time."""
    sleep = RecordingSleep()
    app.extensions["oncord.cliniko_client_options"] = {"sleep": sleep}
    return sleep


@pytest.fixture
def connected_app(app: Flask, sandbox, client_sleep: RecordingSleep) -> Flask:
    """The app pointed at the sandbox and connected with its demo key."""
    return connect_to_sandbox(app, sandbox, sleep=client_sleep)


@pytest.fixture
def pull(connected_app: Flask) -> Callable[..., SyncRun]:
    """Run one pull in-process and return its finished run."""

    def _pull(*, full: bool = False) -> SyncRun:
        return pull_in_process(connected_app, full=full)

    return _pull
