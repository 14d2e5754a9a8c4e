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
from playwright.sync_api import expect
from werkzeug.serving import make_server

from oncord.clock import FrozenClock
from tests.web.conftest import cliniko  # noqa: F401  (the sandbox fixture, shared with the web tests)

SYSTEM_CHROMIUM = "/usr/bin/chromium"
MISSING = f"{SYSTEM_CHROMIUM} not found — `apt-get install chromium`"
REQUIRE_BROWSER = "ONCORD_TEST_REQUIRE_BROWSER"
_LEFT_OUT = pytest.StashKey[int]()
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# A bound on waiting for a condition, not a delay: generous, so a loaded machine still meets it.
expect.set_options(timeout=20_000)
# Set ONCORD_SCREENSHOTS=docs/screenshots to refresh the README's pictures while the tests run.
SCREENSHOTS = os.environ.get("ONCORD_SCREENSHOTS")


def _chromium() -> str | None:
    if Path(SYSTEM_CHROMIUM).exists():
        return SYSTEM_CHROMIUM
    return shutil.which("chromium")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without Chromium, leave the browser tests out and say so once (an error where they must run).

    They are deselected rather than marked skipped because -ra lists each skipped test on a line
    of its own; CI sets ONCORD_TEST_REQUIRE_BROWSER=1 so that a missing Chromium fails the run.
    """
    if _chromium():
        return
    browser = [item for item in items if "browser" in item.keywords]
    if not browser:
        return
    if os.environ.get(REQUIRE_BROWSER) == "1":
        raise pytest.UsageError(f"{REQUIRE_BROWSER}=1 but {MISSING}")
    config.hook.pytest_deselected(items=browser)
    items[:] = [item for item in items if "browser" not in item.keywords]
    config.stash[_LEFT_OUT] = len(browser)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """The one line saying why the browser tests did not run."""
    if config.stash.get(_LEFT_OUT, 0):
        terminalreporter.write_line(f"browser tests skipped: {MISSING}", yellow=True)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Use Debian's Chromium instead of a browser downloaded by `playwright install`."""
    return {**browser_type_launch_args, "executable_path": _chromium(), "args": CHROMIUM_ARGS}


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
