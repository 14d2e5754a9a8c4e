"""Fixtures for syncing the test app with a sandbox over real HTTP."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from oncord import context
from oncord.db import get_database
from oncord.integration import connect_cliniko
from oncord.models import SyncRun
from oncord.sync.launcher import create_run
from oncord.sync.service import run_pull


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
    app.extensions["oncord.settings"] = _with_base_url(app, sandbox.base_url)
    with app.app_context(), get_database(app).session() as session:
        connect_cliniko(
            session,
            api_key=sandbox.api_key,
            settings=context.settings(app),
            secret_box=context.secret_box(app),
            clock=context.clock(app),
            client_options=context.cliniko_client_options(app),
        )
        session.commit()
    return app


def _with_base_url(app: Flask, base_url: str):
    from dataclasses import replace

    return replace(context.settings(app), cliniko_api_base_url=base_url)


@pytest.fixture
def pull(connected_app: Flask) -> Callable[..., SyncRun]:
    """Run one pull in-process and return its finished run."""

    def _pull(*, full: bool = False) -> SyncRun:
        with get_database(connected_app).session() as session:
            run = create_run(session, full=full, trigger="test", clock=context.clock(connected_app))
            session.commit()
            run_id = run.id
        return run_pull(connected_app, run_id, full=full)

    return _pull
