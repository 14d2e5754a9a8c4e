"""A scriptable local HTTP server standing in for Cliniko, plus a fake clock for the client."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from oncord.cliniko.client import ClinikoClient

EXAMPLES = Path(__file__).parent / "examples"
API_KEY = "MS0xMjM0NTY3ODkwLXNlY3JldC1rZXktdmFsdWU-au2"
USER_AGENT = "Oncord tests (dev@example.com)"


def example(name: str) -> Any:
    """Load one documented Cliniko payload from tests/cliniko/examples."""
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


# A delay that outlasts any client timeout: the reply comes only when the test ends (stop()).
UNTIL_STOPPED = 120.0
# A client timeout that a prompt local reply meets even on a loaded machine.
TIMEOUT_SECONDS = 1.0


@dataclass
class Reply:
    """What the fake server answers to one request."""

    status: int = 200
    body: Any = None
    text: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    content_type: str = "application/json"


@dataclass
class Seen:
    """One request as the fake server received it."""

    method: str
    path: str
    raw_query: str
    args: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes

    def values(self, name: str) -> list[str]:
        """Return every value of one query parameter, in order."""
        return [v for k, v in self.args if k == name]


Responder = Reply | Callable[[Seen, "FakeCliniko"], Reply]


class FakeCliniko:
    """A real HTTP server on 127.0.0.1 whose replies each test scripts per method and path."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Responder]] = {}
        self.seen: list[Seen] = []
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.port = self._server.server_port
        self.origin = f"http://127.0.0.1:{self.port}"
        self.base_url = f"{self.origin}/v1"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def on(self, method: str, path: str, *replies: Responder) -> None:
        """Queue replies for a route; the last one repeats for any further requests."""
        self.routes[(method, path)] = list(replies)

    def requests_to(self, path: str) -> list[Seen]:
        """Return the requests received for one path."""
        return [s for s in self.seen if s.path == path]

    def stop(self) -> None:
        """Let any delayed handler finish and shut the server down."""
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        seen = Seen(
            method=request.method,
            path=request.path,
            raw_query=environ.get("QUERY_STRING", ""),
            args=list(request.args.items(multi=True)),
            headers=dict(request.headers.items()),
            body=request.get_data(),
        )
        with self._lock:
            self.seen.append(seen)
            queue = self.routes.get((request.method, request.path))
            if not queue:
                responder: Responder = Reply(404, text="<h1>Cliniko - 404</h1>",
                                             content_type="text/html")
            else:
                responder = queue.pop(0) if len(queue) > 1 else queue[0]
        reply = responder(seen, self) if callable(responder) else responder
        if reply.delay:
            # Waits on an event rather than sleeping, so teardown never hangs on it.
            self.release.wait(reply.delay)
        if reply.text is not None:
            payload = reply.text
        elif reply.body is not None:
            payload = json.dumps(reply.body)
        else:
            payload = ""
        response = Response(payload, status=reply.status, content_type=reply.content_type,
                            headers=reply.headers)
        return response(environ, start_response)


class FakeTime:
    """An injected clock and sleep: sleeping only moves the clock and records the amount."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_api() -> Iterator[FakeCliniko]:
    server = FakeCliniko()
    yield server
    server.stop()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def make_client(fake_api: FakeCliniko, fake_time: FakeTime) -> Iterator[Callable[..., ClinikoClient]]:
    made: list[ClinikoClient] = []

    def make(**overrides: Any) -> ClinikoClient:
        options: dict[str, Any] = {
            "user_agent": USER_AGENT,
            "base_url": fake_api.base_url,
            "sleep": fake_time.sleep,
            "clock": fake_time.clock,
            "rng": random.Random(7),
            "timeout": 2.0,
        }
        options.update(overrides)
        client = ClinikoClient(options.pop("api_key", API_KEY), **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
