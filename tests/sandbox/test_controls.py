"""Test controls: injected faults, Cliniko-side edits, bad records and the request log."""

from __future__ import annotations

import time

import pytest
import requests

from oncord.sandbox.faults import Fault
from tests.sandbox.conftest import START
from tests.sandbox.test_rate_limit import START_EPOCH


@pytest.fixture
def clocked(sandbox_factory, sandbox_clock, api_for):
    return api_for(sandbox_factory(clock=sandbox_clock))


def test_injected_429s_then_normal_service(clocked):
    """`rate_limit` faults answer 429 with X-RateLimit-Reset for the next N requests only."""
    clocked.sandbox.store.inject_fault("rate_limit", times=2, reset_in=30)
    first, second, third = (clocked.get("/patients") for _ in range(3))
    assert first.status_code == second.status_code == 429
    assert first.headers["X-RateLimit-Reset"] == str(START_EPOCH + 30)
    assert "Retry-After" not in first.headers
    assert third.status_code == 200


def test_injected_server_errors_and_invalid_json(clocked):
    """`server_error` sends an HTML 5xx; `invalid_json` a 200 whose body does not parse."""
    store = clocked.sandbox.store
    store.inject_fault("server_error", status=503)
    response = clocked.get("/patients")
    assert response.status_code == 503 and "text/html" in response.headers["Content-Type"]
    store.inject_fault("invalid_json")
    broken = clocked.get("/patients")
    assert broken.status_code == 200
    with pytest.raises(requests.JSONDecodeError):
        broken.json()
    assert clocked.get("/patients").status_code == 200


def test_slow_responses(clocked):
    """`slow` delays the answer, then serves it normally."""
    clocked.sandbox.store.inject_fault("slow", delay=0.3)
    started = time.perf_counter()
    assert clocked.get("/user").status_code == 200
    assert time.perf_counter() - started >= 0.3


def test_validation_faults_hit_writes_only_and_can_target_a_path(clocked):
    """A `validation` fault answers the next write with a 422 naming the field."""
    store = clocked.sandbox.store
    patient = clocked.all("/patients")[0]["id"]
    store.inject_fault("validation", field="email", message="is invalid")
    assert clocked.get(f"/patients/{patient}").status_code == 200  # reads pass through
    refused = clocked.request("PATCH", f"/patients/{patient}", json={"notes": "x"})
    assert refused.status_code == 422
    assert refused.json() == {"message": "Validation Failed", "errors": {"email": "is invalid"}}
    store.inject_fault("server_error", path="/v1/individual_appointments", method="GET")
    assert clocked.get("/patients").status_code == 200
    assert clocked.get("/individual_appointments").status_code == 500
    assert store.faults.pending() == []


def test_bad_fault_options_are_refused(clocked):
    """Fault settings that make no sense raise ValueError instead of misbehaving later."""
    store = clocked.sandbox.store
    for options in ({"kind": "gremlins"}, {"kind": "slow", "delay": -1},
                    {"kind": "server_error", "status": 404}, {"kind": "rate_limit", "times": 0}):
        with pytest.raises(ValueError):
            store.faults.add(Fault(**options))


def test_malformed_patient_and_appointment(clocked, sandbox_clock):
    """A record can be made to miss a field or carry a wrong type; its updated_at moves."""
    store = clocked.sandbox.store
    patient = clocked.all("/patients")[0]["id"]
    sandbox_clock.advance(30)
    store.malform_patient(patient, set={"first_name": 12345}, drop=["last_name"])
    bad = clocked.get(f"/patients/{patient}").json()
    assert bad["first_name"] == 12345 and "last_name" not in bad
    assert bad["updated_at"] == "2026-11-20T23:00:30Z"
    listed = clocked.all("/patients", ["updated_at:>=2026-11-20T23:00:30Z"])
    assert [p["id"] for p in listed] == [patient]
    appointment = clocked.all("/individual_appointments")[0]["id"]
    store.malform_appointment(appointment, set={"starts_at": "tomorrow"}, drop=["patient"])
    bad = clocked.get(f"/individual_appointments/{appointment}").json()
    assert bad["starts_at"] == "tomorrow" and "patient" not in bad


def test_cliniko_side_patient_edits(clocked, sandbox_clock):
    """edit_patient changes any field (even read-only ones) and archives; updated_at moves."""
    store = clocked.sandbox.store
    patient = next(p for p in clocked.all("/patients") if p["accepted_sms_marketing"] is not True)
    sandbox_clock.advance(60)
    edited = store.edit_patient(patient["id"], email="new@example.com", accepted_sms_marketing=True)
    assert edited["email"] == "new@example.com" and edited["accepted_sms_marketing"] is True
    assert edited["updated_at"] == "2026-11-20T23:01:00Z"
    store.edit_patient(patient["id"], archived=True)
    assert clocked.get(f"/patients/{patient['id']}").status_code == 404
    store.unarchive_patient(patient["id"])
    assert clocked.get(f"/patients/{patient['id']}").status_code == 200


def test_cliniko_side_appointment_changes(clocked, sandbox_clock):
    """Reschedule, arrival marks, cancel and archive show up with a new updated_at."""
    store = clocked.sandbox.store
    appointment = clocked.all("/individual_appointments", sort="starts_at:desc")[0]
    aid = appointment["id"]
    sandbox_clock.advance(120)
    store.update_appointment(aid, starts_at="2026-12-01T00:00:00Z", notes="Moved by phone")
    moved = clocked.get(f"/individual_appointments/{aid}").json()
    assert moved["starts_at"] == "2026-12-01T00:00:00Z" and moved["notes"] == "Moved by phone"
    assert moved["updated_at"] == "2026-11-20T23:02:00Z"
    duration = _seconds(appointment["ends_at"]) - _seconds(appointment["starts_at"])
    assert _seconds(moved["ends_at"]) - _seconds(moved["starts_at"]) == duration
    for action, flags in ((store.mark_arrived, (True, False)), (store.mark_did_not_arrive, (False, True)),
                          (store.clear_arrival, (None, None)), (store.reset_arrival, (False, False))):
        action(aid)
        body = clocked.get(f"/individual_appointments/{aid}").json()
        assert (body["patient_arrived"], body["did_not_arrive"]) == flags
    store.cancel_appointment(aid, reason=40, note="Away interstate")
    assert clocked.get(f"/individual_appointments/{aid}").status_code == 404
    cancelled = clocked.get(f"/individual_appointments/{aid}", {"q[]": "cancelled_at:*"}).json()
    assert cancelled["cancellation_reason"] == 40
    assert cancelled["cancellation_reason_description"] == "Away"
    assert cancelled["cancellation_note"] == "Away interstate"
    assert cancelled["cancelled_at"] == cancelled["updated_at"]
    store.archive_appointment(aid)
    assert clocked.get(f"/individual_appointments/{aid}", {"q[]": "cancelled_at:*"}).status_code == 404


def test_new_booking_on_the_cliniko_side(clocked):
    """add_appointment books for a patient; it appears in the patient's list."""
    store = clocked.sandbox.store
    patient = clocked.all("/patients")[0]["id"]
    aid = store.add_appointment(patient_id=patient, starts_at=START.replace(day=28))
    theirs = clocked.all("/individual_appointments", [f"patient_id:={patient}"])
    assert aid in [a["id"] for a in theirs]
    booked = clocked.get(f"/individual_appointments/{aid}").json()
    assert booked["starts_at"] == "2026-11-28T23:00:00Z"
    assert booked["patient"]["links"]["self"].endswith(patient)


def test_request_count_and_log(clocked):
    """Every /v1 request is counted and logged with its status; control calls are not."""
    store = clocked.sandbox.store
    store.reset_requests()
    clocked.get("/user")
    clocked.get("/patients", {"per_page": 5})
    clocked.get("/nowhere")
    requests.get(clocked.sandbox.control_url, timeout=10)
    assert store.request_count == 3
    log = store.request_log()
    assert [(e["method"], e["path"], e["status"]) for e in log] == [
        ("GET", "/v1/user", 200), ("GET", "/v1/patients", 200), ("GET", "/v1/nowhere", 404)]
    assert log[1]["query"] == "per_page=5"


def _seconds(timestamp: str) -> int:
    from oncord.sandbox.timeutil import parse_timestamp

    return int(parse_timestamp(timestamp))


def test_http_controls(clocked, sandbox_clock):
    """The same controls over HTTP under /_sandbox, for a sandbox in another process."""
    control = clocked.sandbox.control_url
    http = requests.Session()
    overview = http.get(control).json()
    assert overview["api_key"] == clocked.sandbox.api_key and overview["counts"]["patients"] == 30
    added = http.post(f"{control}/faults", json={"kind": "rate_limit", "times": 1, "reset_in": 5})
    assert added.status_code == 201 and len(added.json()["pending"]) == 1
    assert clocked.get("/user").status_code == 429
    assert http.post(f"{control}/faults", json={"kind": "nope"}).status_code == 400
    http.post(f"{control}/faults", json={"kind": "server_error"})
    assert http.delete(f"{control}/faults").status_code == 204
    assert clocked.get("/user").status_code == 200

    patient = clocked.all("/patients")[0]["id"]
    edited = http.post(f"{control}/patients/{patient}", json={"first_name": "Renée", "archived": False})
    assert edited.status_code == 200 and edited.json()["first_name"] == "Renée"
    assert http.post(f"{control}/patients/{patient}", json={"email": "nope"}).status_code == 422
    assert http.post(f"{control}/patients/123", json={}).status_code == 404
    assert http.post(f"{control}/patients/{patient}/malform", json={"drop": ["email"]}).status_code == 204
    assert "email" not in clocked.get(f"/patients/{patient}").json()
    new_id = http.post(f"{control}/patients", json={"first_name": "Ana", "last_name": "Ng"}).json()["id"]
    assert clocked.get(f"/patients/{new_id}").json()["label"] == "Ana Ng"

    appointment = clocked.all("/individual_appointments")[0]["id"]
    changed = http.post(f"{control}/individual_appointments/{appointment}",
                        json={"arrival": "did_not_arrive", "notes": "No show"}).json()
    assert changed["did_not_arrive"] is True and changed["notes"] == "No show"
    cancelled = http.post(f"{control}/individual_appointments/{appointment}",
                          json={"cancel": {"reason": 10, "note": "Feeling fine"}}).json()
    assert cancelled["cancellation_reason_description"] == "Feeling Better"
    assert http.post(f"{control}/individual_appointments/{appointment}",
                     json={"arrival": "teleported"}).status_code == 400
    booked = http.post(f"{control}/individual_appointments",
                       json={"patient_id": patient, "starts_at": "2026-12-02T01:00:00Z"})
    assert booked.status_code == 201
    ids = http.get(f"{control}/ids/individual_appointments", params={"q[]": f"patient_id:={patient}"})
    assert booked.json()["id"] in ids.json()["ids"]

    assert http.post(f"{control}/clock", json={"advance": 3600}).json()["now"] == "2026-11-21T00:00:00Z"
    assert http.post(f"{control}/rate_limit", json={"limit": 1, "window_seconds": 60}).status_code == 200
    assert clocked.get("/user").status_code == 200
    assert clocked.get("/user").status_code == 429
    log = http.get(f"{control}/requests").json()
    assert log["count"] == len(log["requests"]) and log["requests"][-1]["status"] == 429
    assert http.delete(f"{control}/requests").status_code == 204
    assert http.get(f"{control}/requests").json()["count"] == 0
    http.close()


def test_http_controls_for_classes(clocked):
    """Classes and their attendees can be scheduled, booked, marked, cancelled and moved over HTTP."""
    control = clocked.sandbox.control_url
    http = requests.Session()
    patient = clocked.all("/patients")[0]["id"]
    created = http.post(f"{control}/group_appointments", json={"starts_at": "2026-11-25T08:00:00Z"})
    assert created.status_code == 201
    group = created.json()["id"]
    booked = http.post(f"{control}/group_appointments/{group}/attendees", json={"patient_id": patient})
    assert booked.status_code == 201
    attendee = booked.json()["id"]
    assert clocked.get(f"/attendees/{attendee}").json()["arrived"] is False
    assert http.post(f"{control}/attendees/{attendee}", json={"arrived": True}).json()["arrived"] is True
    assert http.post(f"{control}/attendees/{attendee}", json={"arrived": "yes"}).status_code == 400
    cancelled = http.post(f"{control}/attendees/{attendee}", json={"cancel": {"reason": 40}}).json()
    assert cancelled["cancellation_reason_description"] == "Away"
    moved = http.post(f"{control}/group_appointments/{group}", json={"starts_at": "2026-11-26T08:00:00Z"})
    assert moved.json()["starts_at"] == "2026-11-26T08:00:00Z"
    assert clocked.get(f"/group_appointments/{group}").json()["patient_ids"] == [patient]
    # An attendee id of an individual appointment's attendee is not a class attendee to edit.
    appointments = {a["id"] for a in clocked.all("/individual_appointments")}
    individual = next(
        a["id"] for a in clocked.all("/attendees")
        if a["booking"]["links"]["self"].rsplit("/", 1)[1] in appointments
    )
    assert http.post(f"{control}/attendees/{individual}", json={"arrived": True}).status_code == 404
    http.close()
