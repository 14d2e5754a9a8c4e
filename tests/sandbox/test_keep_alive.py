"""The sandbox keeps HTTP/1.1 connections open, as Cliniko does, whatever it answers."""

from __future__ import annotations

import base64
import http.client
import json
from urllib.parse import urlsplit

from tests.sandbox.conftest import USER_AGENT


def _connection(sandbox):
    url = urlsplit(sandbox.root_url)
    return http.client.HTTPConnection(url.hostname, url.port, timeout=10)


def _headers(sandbox):
    token = base64.b64encode(f"{sandbox.api_key}:".encode()).decode()
    return {"Authorization": f"Basic {token}", "User-Agent": USER_AGENT, "Accept": "application/json"}


def _exchange(connection, sandbox, method, path, body=None):
    headers = _headers(sandbox)
    if body is not None:
        headers["Content-Type"] = "application/json"
    connection.request(method, "/v1" + path, body=None if body is None else json.dumps(body), headers=headers)
    response = connection.getresponse()
    payload = response.read()
    return response, payload


def test_one_connection_serves_pages_faults_and_writes(sandbox):
    """Pages, an injected 429 and 500, and a refused write all travel on one open connection."""
    sandbox.store.inject_fault("rate_limit", times=1, reset_in=5)
    sandbox.store.inject_fault("server_error", times=1, path="/v1/user")
    connection = _connection(sandbox)
    try:
        limited, _ = _exchange(connection, sandbox, "GET", "/patients?per_page=5")
        socket = connection.sock
        page, body = _exchange(connection, sandbox, "GET", "/patients?per_page=5")
        failed, _ = _exchange(connection, sandbox, "GET", "/user")
        # A write the sandbox refuses before reading its body must not poison the next request.
        refused, _ = _exchange(connection, sandbox, "PATCH", "/patients/999999999",
                               body={"first_name": "x" * 5000})
        after, _ = _exchange(connection, sandbox, "GET", "/patients?per_page=5")
        assert [r.status for r in (limited, page, failed, refused, after)] == [429, 200, 500, 404, 200]
        assert all(not r.will_close for r in (limited, page, failed, refused, after))
        assert int(page.getheader("Content-Length")) == len(body)
        assert connection.sock is socket
    finally:
        connection.close()


def test_stopping_the_sandbox_ends_idle_connections(sandbox_factory):
    """stop() returns promptly and closes a client's idle keep-alive connection."""
    sandbox = sandbox_factory()
    connection = _connection(sandbox)
    try:
        first, _ = _exchange(connection, sandbox, "GET", "/patients?per_page=1")
        assert first.status == 200 and not first.will_close
        sandbox.stop()
        assert connection.sock.recv(1) == b""
    finally:
        connection.close()
