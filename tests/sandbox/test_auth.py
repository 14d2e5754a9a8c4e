"""Who the sandbox lets in: API key and shard, user agent, Accept; and its 404s."""

from __future__ import annotations

import base64
import socket

import requests

from oncord.sandbox.server import DEMO_API_KEY, DEMO_KEY_BODY
from tests.sandbox.conftest import USER_AGENT


def _get(sandbox, path="/user", *, key=DEMO_API_KEY, headers=None):
    sent = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
    auth = None if key is None else (key, "")
    return requests.get(sandbox.base_url + path, auth=auth, headers=sent, timeout=10)


def test_demo_key_works_with_and_without_its_shard_suffix(sandbox):
    """The key authenticates as issued (`...-au1`) and bare, like an old un-suffixed key."""
    assert sandbox.api_key == DEMO_API_KEY and DEMO_API_KEY.endswith("-au1")
    assert _get(sandbox).status_code == 200
    assert _get(sandbox, key=DEMO_KEY_BODY).status_code == 200


def test_wrong_or_missing_key_is_401_plain_text(sandbox):
    """A bad key, no key or a non-Basic scheme gets Rails' plain-text Basic-auth refusal."""
    for response in (
        _get(sandbox, key="not-a-key-au1"),
        _get(sandbox, key=None),
        _get(sandbox, key=None, headers={"Authorization": "Bearer " + DEMO_API_KEY}),
    ):
        assert response.status_code == 401
        assert response.text.strip() == "HTTP Basic: Access denied."
        assert response.headers["Content-Type"].startswith("text/plain")


def test_key_for_another_shard_is_refused(sandbox_factory):
    """A key whose suffix names another shard is unknown here, as on the wrong host."""
    au1 = sandbox_factory()
    assert _get(au1, key=f"{DEMO_KEY_BODY}-au2").status_code == 401
    au4 = sandbox_factory(shard="au4")
    assert au4.api_key == f"{DEMO_KEY_BODY}-au4"
    assert _get(au4, key=au4.api_key).status_code == 200
    assert _get(au4, key=DEMO_API_KEY).status_code == 401


def test_user_agent_needs_a_name_and_an_email(sandbox):
    """No, an empty or an e-mail-less User-Agent is refused with `Requires a user agent`."""
    for agent in ("", "python-requests/2.32", "Oncord", "(dev@example.com)", "Oncord (not-an-email)"):
        response = _get(sandbox, headers={"User-Agent": agent})
        assert response.status_code == 403, agent
        assert response.text == "Requires a user agent"
    session = requests.Session()
    session.headers.pop("User-Agent")
    response = session.get(sandbox.base_url + "/user", auth=(DEMO_API_KEY, ""), timeout=10)
    session.close()
    assert response.status_code == 403
    assert _get(sandbox, headers={"User-Agent": "Really helpful app (devs@helpfulapp.com)"}).ok


def test_accept_must_allow_json(sandbox):
    """JSON, a wildcard or no Accept at all are served; an HTML-only Accept is 406."""
    assert _get(sandbox, headers={"Accept": "*/*"}).status_code == 200
    assert _get(sandbox, headers={"Accept": ""}).status_code == 200
    assert _get(sandbox, headers={"Accept": "text/html"}).status_code == 406


def test_unknown_route_is_cliniko_html_404(sandbox):
    """A route Cliniko does not have answers with an HTML page, not JSON."""
    for path in ("/nope", "/patients/1/nope", "/unavailable_blocks"):
        response = _get(sandbox, path)
        assert response.status_code == 404
        assert response.headers["Content-Type"].startswith("text/html")
        assert "Cliniko - 404" in response.text
    wrong_method = requests.delete(sandbox.base_url + "/patients", auth=(DEMO_API_KEY, ""),
                                   headers={"User-Agent": USER_AGENT}, timeout=10)
    assert wrong_method.status_code == 404


def test_unknown_id_is_json_404(sandbox):
    """An id that does not exist is a 404 with a JSON message."""
    for path in ("/patients/1", "/patients/abc", "/individual_appointments/99999999999999999999",
                 "/practitioners/1", "/businesses/1", "/appointment_types/1"):
        response = _get(sandbox, path)
        assert response.status_code == 404, path
        assert "message" in response.json()


def test_host_header_must_be_a_plain_host(sandbox):
    """Links are built from the Host header, so a malformed one is refused, not echoed."""
    auth = base64.b64encode(f"{DEMO_API_KEY}:".encode()).decode()
    for host, status in (('bad"host', 400), ("", 400), ("api.au1.cliniko.test:8443", 200)):
        with socket.create_connection(("127.0.0.1", sandbox.port), timeout=10) as conn:
            conn.sendall(
                f"GET /v1/user HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {USER_AGENT}\r\n"
                f"Authorization: Basic {auth}\r\nConnection: close\r\n\r\n".encode()
            )
            reply = b""
            while chunk := conn.recv(65536):
                reply += chunk
        assert reply.split(b" ", 2)[1] == str(status).encode(), host
        if status == 200:
            assert b'"self":"http://api.au1.cliniko.test:8443/v1/users/' in reply
