"""Headless Debian Chromium driving the app served by a real HTTP server in a thread."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from oncord.clock import FrozenClock
from tests.web.conftest import cliniko  # noqa: F401  (the sandbox fixture, shared with the web tests)

SYSTEM_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# Set ONCORD_SCREENSHOTS=docs/screenshots to refresh the README's pictures while the tests run.
SCREENSHOTS = os.environ.get("ONCORD_SCREENSHOTS")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip (rather than fail) the browser tests on a machine without Debian's Chromium."""
    if Path(SYSTEM_CHROMIUM).exists() or shutil.which("chromium"):
        return
    skip = pytest.mark.skip(reason="Debian's chromium is not installed (apt-get install chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Use Debian's Chromium instead of a browser downloaded by `playwright install`."""
    executable = SYSTEM_CHROMIUM if Path(SYSTEM_CHROMIUM).exists() else shutil.which("chromium")
    return {**browser_type_launch_args, "executable_path": executable, "args": CHROMIUM_ARGS}


@pytest.fixture
def clock() -> FrozenClock:
    """Today, frozen: the worker process stamps real times, so screens must agree with it."""
    return FrozenClock(datetime.now(UTC).replace(second=0, microsecond=0))


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The test app served over HTTP on a free port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def screenshot(page, name: str) -> None:
    """Save a full-page screenshot for the README when ONCORD_SCREENSHOTS names a folder."""
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.evaluate("window.scrollTo(0, 0)")  # else the sticky top bar lands mid-picture
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)
