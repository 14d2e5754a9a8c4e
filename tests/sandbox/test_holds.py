"""Holds: matching requests wait inside the sandbox until released, never longer than their timeout."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
import requests

from oncord.sandbox.holds import Hold, HoldBoard


@pytest.fixture
def in_background() -> Iterator[ThreadPoolExecutor]:
    """Threads for requests that will be held; the test joins them through their futures."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        yield pool


def _status(future: Future) -> int:
    return future.result(timeout=30).status_code


def test_a_held_request_waits_until_released(api, sandbox, in_background):
    """The request is answered only after release; others pass meanwhile."""
    hold = sandbox.store.hold("/v1/patients")
    held = in_background.submit(api.get, "/patients")
    assert sandbox.store.holds.wait_until_waiting(hold.id, 1, timeout=30)
    assert api.get("/user").status_code == 200  # not matching: not held
    assert not held.done()
    sandbox.store.holds.release(hold.id)
    assert _status(held) == 200
    assert sandbox.store.holds.state(hold.id)["waiting"] == 0


def test_skip_lets_the_first_requests_through_and_count_limits_the_catch(api, sandbox, in_background):
    """With skip=1 and count=1 only the second matching request is held; the third passes."""
    hold = sandbox.store.hold("/v1/patients", skip=1, count=1)
    assert api.get("/patients").status_code == 200
    second = in_background.submit(api.get, "/patients")
    assert sandbox.store.holds.wait_until_waiting(hold.id, 1, timeout=30)
    assert api.get("/patients").status_code == 200
    sandbox.store.holds.release(hold.id)
    assert _status(second) == 200
    assert sandbox.store.holds.state(hold.id)["taken"] == 1


def test_a_method_filter_holds_only_that_method(api, sandbox, in_background):
    """A PATCH hold lets GETs of the same path through."""
    patient = api.all("/patients")[0]["id"]
    hold = sandbox.store.hold(f"/v1/patients/{patient}", method="patch")
    assert api.get(f"/patients/{patient}").status_code == 200
    patched = in_background.submit(api.request, "PATCH", f"/patients/{patient}", json={"city": "Bendigo"})
    assert sandbox.store.holds.wait_until_waiting(hold.id, 1, timeout=30)
    sandbox.store.holds.release(hold.id)
    assert _status(patched) == 200


def test_a_forgotten_hold_lets_go_after_its_timeout(api, sandbox):
    """The timeout bounds every hold: the request is then served and counted as timed out."""
    hold = sandbox.store.hold("/v1/user", timeout=0.05)
    assert api.get("/user").status_code == 200
    assert sandbox.store.holds.state(hold.id)["timed_out"] == 1


def test_stopping_the_sandbox_releases_held_requests(sandbox_factory, api_for, in_background):
    """stop() leaves no request thread waiting on a hold."""
    sandbox = sandbox_factory()
    api = api_for(sandbox)
    hold = sandbox.store.hold("/v1/patients", timeout=300)
    held = in_background.submit(api.get, "/patients")
    assert sandbox.store.holds.wait_until_waiting(hold.id, 1, timeout=30)
    sandbox.stop()
    assert _status(held) == 200
    assert sandbox.store.holds.state(hold.id)["timed_out"] == 0


def test_bad_hold_settings_are_refused():
    """Counts, skips and timeouts out of range are errors, not holds that never end."""
    board = HoldBoard()
    for settings in ({"count": 0}, {"skip": -1}, {"timeout": 0}, {"timeout": 301}, {"count": True},
                     {"path": 5}):
        with pytest.raises(ValueError):
            board.add(Hold(**settings))


def test_holds_over_http(api, sandbox, in_background):
    """POST /_sandbox/holds, .../wait (200 once held, 504 when not in time), .../release, DELETE."""
    control = sandbox.control_url
    http = requests.Session()
    created = http.post(f"{control}/holds", json={"path": "/v1/patients", "count": 2, "timeout": 60})
    assert created.status_code == 201
    hold_id = created.json()["id"]
    assert http.post(f"{control}/holds/{hold_id}/wait", json={"timeout": 0}).status_code == 504
    first = in_background.submit(api.get, "/patients")
    second = in_background.submit(api.get, "/patients")
    waited = http.post(f"{control}/holds/{hold_id}/wait", json={"waiting": 2, "timeout": 30})
    assert waited.status_code == 200 and waited.json()["waiting"] == 2
    assert http.get(f"{control}/holds").json()["holds"][0]["taken"] == 2
    released = http.post(f"{control}/holds/{hold_id}/release")
    assert released.status_code == 200 and released.json()["released"] is True
    assert _status(first) == _status(second) == 200

    other = http.post(f"{control}/holds", json={"path": "/v1/user", "timeout": 60}).json()["id"]
    held = in_background.submit(api.get, "/user")
    assert http.post(f"{control}/holds/{other}/wait", json={"timeout": 30}).status_code == 200
    assert http.delete(f"{control}/holds").status_code == 204
    assert _status(held) == 200

    assert http.post(f"{control}/holds", json={"count": 0}).status_code == 400
    assert http.post(f"{control}/holds", json={"taken": 3}).status_code == 400
    assert http.post(f"{control}/holds/99/release").status_code == 404
    assert http.post(f"{control}/holds/{hold_id}/wait", json={"timeout": 999}).status_code == 400
    http.close()
