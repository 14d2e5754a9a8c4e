"""Run the sandbox on a threaded keep-alive HTTP/1.1 server in a background thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from types import TracebackType

from oncord.sandbox.app import create_app
from oncord.sandbox.http11 import KeepAliveServer, make_keep_alive_server
from oncord.sandbox.store import SandboxStore

DEMO_KEY_BODY = "MS1vbmNvcmQtc2FuZGJveC1kZW1vLWtleQ"
DEMO_API_KEY = f"{DEMO_KEY_BODY}-au1"


def api_key_for(shard: str) -> str:
    """The demo key as issued on `shard` (the key body plus `-shard`)."""
    return f"{DEMO_KEY_BODY}-{shard}"


class RunningSandbox:
    """A sandbox being served: where it is, the key it accepts, its store; stop() ends it."""

    def __init__(self, server: KeepAliveServer, store: SandboxStore, api_key: str) -> None:
        self.server = server
        self.store = store
        self.api_key = api_key
        host = server.server_address[0]
        if isinstance(host, bytes):  # typeshed allows bytes (AF_UNIX); a TCP server gives str
            host = host.decode()
        display_host = f"[{host}]" if ":" in host else host
        self.root_url = f"http://{display_host}:{server.server_port}"
        self.base_url = f"{self.root_url}/v1"
        self.control_url = f"{self.root_url}/_sandbox"
        # A short poll interval keeps stop() quick: shutdown waits for the next poll.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02},
            name="cliniko-sandbox", daemon=True,
        )
        self._thread.start()

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        return self.server.server_port

    def stop(self) -> None:
        """Release every held request, stop serving and release the port."""
        self.store.holds.release_all()
        if self._thread.is_alive():
            self.server.shutdown()
            self._thread.join(timeout=10)
        self.server.server_close()

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def build_sandbox(
    *,
    patients: int = 200,
    appointments: int | None = None,
    seed: int = 1,
    rate_limit: int | None = 200,
    rate_window_seconds: float = 60.0,
    shard: str = "au1",
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Callable[[], datetime] | None = None,
    log_requests: bool = False,
) -> tuple[KeepAliveServer, SandboxStore, str]:
    """Generate the account and bind a threaded server to it (not yet serving)."""
    store = SandboxStore(
        patients=patients, appointments=appointments, seed=seed, shard=shard, clock=clock,
        rate_limit=rate_limit, rate_window_seconds=rate_window_seconds,
    )
    api_key = api_key_for(shard)
    server = make_keep_alive_server(host, port, create_app(store, api_key), log_requests=log_requests)
    return server, store, api_key


def start_sandbox(
    *,
    patients: int = 200,
    appointments: int | None = None,
    seed: int = 1,
    rate_limit: int | None = 200,
    rate_window_seconds: float = 60.0,
    shard: str = "au1",
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Callable[[], datetime] | None = None,
    log_requests: bool = False,
) -> RunningSandbox:
    """Generate a seeded account and serve it as Cliniko's API at `RunningSandbox.base_url`."""
    server, store, api_key = build_sandbox(
        patients=patients, appointments=appointments, seed=seed, rate_limit=rate_limit,
        rate_window_seconds=rate_window_seconds, shard=shard, host=host, port=port,
        clock=clock, log_requests=log_requests,
    )
    return RunningSandbox(server, store, api_key)
