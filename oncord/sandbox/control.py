"""/_sandbox: test controls over HTTP (faults, holds, Cliniko-side edits, request log, clock, limits)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request

from oncord.sandbox.api import BodyError, json_body, store
from oncord.sandbox.faults import Fault
from oncord.sandbox.holds import MAX_WAIT, Hold, UnknownHold
from oncord.sandbox.query import QueryError
from oncord.sandbox.responses import json_response, message, validation_failed
from oncord.sandbox.store import RESOURCES, NotFound
from oncord.sandbox.timeutil import iso
from oncord.sandbox.validation import ValidationFailed

bp = Blueprint("sandbox_control", __name__, url_prefix="/_sandbox")
_MAX_ADVANCE = 10 * 365 * 86_400
_HOLD_SETTINGS = {"path", "method", "count", "skip", "timeout"}

_ARRIVAL_ACTIONS = {
    "arrived": "mark_arrived", "did_not_arrive": "mark_did_not_arrive",
    "cleared": "clear_arrival", "plain": "reset_arrival",
}


@bp.errorhandler(BodyError)
def _bad_body(error: BodyError) -> Response:
    return error.response


@bp.errorhandler(ValidationFailed)
def _invalid(error: ValidationFailed) -> Response:
    return validation_failed(error.errors)


@bp.errorhandler(NotFound)
def _missing(error: NotFound) -> Response:
    return message(str(error), 404)


@bp.errorhandler(UnknownHold)
def _no_hold(error: UnknownHold) -> Response:
    return message(str(error), 404)


@bp.errorhandler(QueryError)
def _bad_query(error: QueryError) -> Response:
    return message(error.message, 400)


@bp.errorhandler(ValueError)
@bp.errorhandler(TypeError)
def _bad_value(error: Exception) -> Response:
    return message(str(error), 400)


@bp.get("")
def overview() -> Response:
    """What this sandbox is: its key, shard, sizes, request count, rate limit and clock."""
    data = store()
    limiter = data.rate_limiter
    return json_response({
        "base_url": request.host_url + "v1",
        "api_key": current_app.extensions["oncord_sandbox"].api_key,
        "shard": data.shard, "seed": data.seed, "counts": data.counts(),
        "request_count": data.request_count, "now": iso(data.now()),
        "rate_limit": {"limit": limiter.limit, "window_seconds": limiter.window_seconds},
    })


@bp.get("/faults")
def list_faults() -> Response:
    """The faults still waiting to fire."""
    return json_response({"pending": store().faults.pending()})


@bp.post("/faults")
def add_fault() -> Response:
    """Queue a fault; the body holds Fault's fields (kind, times, delay, ...)."""
    body = json_body()
    fault = store().faults.add(Fault(**body))
    return json_response({"id": fault.id, "pending": store().faults.pending()}, 201)


@bp.delete("/faults")
def clear_faults() -> Response:
    """Drop every pending fault."""
    store().clear_faults()
    return Response(status=204)


@bp.get("/holds")
def list_holds() -> Response:
    """Every hold and how many requests it is holding now."""
    return json_response({"holds": store().holds.states()})


@bp.post("/holds")
def add_hold() -> Response:
    """Hold matching requests until released; the body holds Hold's fields (path, count, skip, ...)."""
    body = json_body()
    unknown = set(body) - _HOLD_SETTINGS
    if unknown:
        raise ValueError(f"unknown hold settings: {', '.join(sorted(map(str, unknown)))}")
    hold = store().holds.add(Hold(**body))
    return json_response(hold.as_dict(), 201)


@bp.post("/holds/<int:hold_id>/wait")
def wait_for_hold(hold_id: int) -> Response:
    """Answer once `waiting` requests (1 unless given) are held: 200, or 504 after `timeout` seconds."""
    body = json_body()
    waiting, timeout = body.get("waiting", 1), body.get("timeout", 30)
    if isinstance(waiting, bool) or not isinstance(waiting, int) or waiting < 1:
        raise ValueError("waiting must be a whole number, at least 1")
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 <= timeout <= MAX_WAIT:
        raise ValueError(f"timeout must be 0 to {MAX_WAIT:g} seconds")
    reached = store().holds.wait_until_waiting(hold_id, waiting, timeout)
    return json_response(store().holds.state(hold_id), 200 if reached else 504)


@bp.post("/holds/<int:hold_id>/release")
def release_hold(hold_id: int) -> Response:
    """Let the hold's requests go on; it catches no more."""
    return json_response(store().holds.release(hold_id).as_dict())


@bp.delete("/holds")
def release_holds() -> Response:
    """Release every hold."""
    store().holds.release_all()
    return Response(status=204)


@bp.get("/requests")
def requests_log() -> Response:
    """How many /v1 requests were served, and the latest of them."""
    data = store()
    return json_response({"count": data.request_count, "requests": data.request_log()})


@bp.delete("/requests")
def reset_requests() -> Response:
    """Forget the request log and count."""
    store().reset_requests()
    return Response(status=204)


@bp.post("/clock")
def advance_clock() -> Response:
    """Move the sandbox clock forward by `advance` seconds."""
    seconds = json_body().get("advance", 0)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not (
        0 <= seconds <= _MAX_ADVANCE
    ):
        raise ValueError("advance must be 0 to 10 years in seconds")
    store().advance_clock(seconds)
    return json_response({"now": iso(store().now())})


@bp.post("/rate_limit")
def rate_limit() -> Response:
    """Set `limit` (null: off) and `window_seconds`."""
    body = json_body()
    limit, window = body.get("limit"), body.get("window_seconds", 60.0)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
        raise ValueError("limit must be a whole number or null")
    if isinstance(window, bool) or not isinstance(window, int | float) or not 0 < window <= 86_400:
        raise ValueError("window_seconds must be a number of seconds up to a day")
    store().set_rate_limit(limit, window)
    return json_response({"limit": body.get("limit")})


@bp.get("/ids/<kind>")
def ids(kind: str) -> Response:
    """Ids a /v1 list with these q[] filters would return (no paging, no auth)."""
    if kind not in RESOURCES:
        return message(f"Unknown collection {kind}", 404)
    found = store().ids(kind, request.args.getlist("q[]"), request.args.get("sort"))
    return json_response({"ids": found})


@bp.post("/patients")
def create_patient() -> Response:
    """Create a patient on the Cliniko side; answers its id."""
    return json_response({"id": store().create_patient(json_body())}, 201)


@bp.post("/patients/<record_id>")
def edit_patient(record_id: str) -> Response:
    """Change any patient fields (and `archived`) on the Cliniko side."""
    return json_response(store().edit_patient(record_id, **_fields(json_body())))


@bp.post("/patients/<record_id>/malform")
def malform_patient(record_id: str) -> Response:
    """Make a patient render with `set` fields replaced and `drop` fields missing."""
    body = json_body()
    store().malform_patient(record_id, set=_object(body, "set"), drop=_names(body))
    return Response(status=204)


@bp.post("/individual_appointments")
def add_appointment() -> Response:
    """Book an appointment on the Cliniko side (`online: true`: as a patient on the booking page); its id."""
    return json_response({"id": store().add_appointment(**_fields(json_body()))}, 201)


@bp.post("/individual_appointments/<record_id>")
def edit_appointment(record_id: str) -> Response:
    """Apply, in order: starts_at/ends_at/notes, arrival, cancel, archived, deleted."""
    body = json_body()
    data = store()
    times = {k: body[k] for k in ("starts_at", "ends_at", "notes") if k in body}
    if times:
        data.update_appointment(record_id, **times)
    if "arrival" in body:
        action = _ARRIVAL_ACTIONS.get(body["arrival"]) if isinstance(body["arrival"], str) else None
        if action is None:
            raise ValueError(f"arrival must be one of {', '.join(_ARRIVAL_ACTIONS)}")
        getattr(data, action)(record_id)
    if "cancel" in body:
        cancel = body["cancel"] if isinstance(body["cancel"], dict) else {}
        data.cancel_appointment(record_id, cancel.get("reason", 50), cancel.get("note"))
    if "archived" in body:
        data.archive_appointment(record_id, bool(body["archived"]))
    if body.get("deleted"):
        data.delete_appointment(record_id)
    return json_response(data.get("individual_appointments", record_id, request.host_url + "v1"))


@bp.post("/individual_appointments/<record_id>/malform")
def malform_appointment(record_id: str) -> Response:
    """Make an appointment render with `set` replaced and `drop` missing."""
    body = json_body()
    store().malform_appointment(record_id, set=_object(body, "set"), drop=_names(body))
    return Response(status=204)


@bp.post("/group_appointments")
def add_group_appointment() -> Response:
    """Schedule a class on the Cliniko side; answers its id."""
    return json_response({"id": store().add_group_appointment(**_fields(json_body()))}, 201)


@bp.post("/group_appointments/<record_id>")
def edit_group_appointment(record_id: str) -> Response:
    """Move (starts_at) and/or archive (archived: true/false) a class."""
    body = json_body()
    data = store()
    archived = body.get("archived")
    data.update_group_appointment(
        record_id, starts_at=body.get("starts_at"), archived=None if archived is None else bool(archived)
    )
    return json_response(data.get("group_appointments", record_id, request.host_url + "v1"))


@bp.post("/group_appointments/<record_id>/attendees")
def add_attendee(record_id: str) -> Response:
    """Book a patient (`patient_id`) into a class (`online: true`: on the booking page); the attendee's id."""
    body = json_body()
    patient_id, online = body.get("patient_id"), body.get("online", False)
    if not isinstance(patient_id, str):
        raise ValueError("patient_id must be a string")
    if not isinstance(online, bool):
        raise ValueError("online must be true or false")
    attendee = store().add_attendee(group_appointment_id=record_id, patient_id=patient_id, online=online)
    return json_response({"id": attendee}, 201)


@bp.post("/attendees/<record_id>")
def edit_attendee(record_id: str) -> Response:
    """Apply, in order: arrived (true/false/null), cancel ({reason, note}), archived."""
    body = json_body()
    data = store()
    if "arrived" in body:
        if body["arrived"] not in (True, False, None):
            raise ValueError("arrived must be true, false or null")
        data.set_attendee_arrived(record_id, body["arrived"])
    if "cancel" in body:
        cancel = body["cancel"] if isinstance(body["cancel"], dict) else {}
        data.cancel_attendee(record_id, cancel.get("reason", 50), cancel.get("note"))
    if "archived" in body:
        data.archive_attendee(record_id, bool(body["archived"]))
    return json_response(data.get("attendees", record_id, request.host_url + "v1"))


def _fields(body: dict[str, Any]) -> dict[str, Any]:
    # Keyword arguments must be identifiers; anything else is a caller mistake, not a crash.
    if not all(isinstance(k, str) and k.isidentifier() for k in body):
        raise ValueError("field names must be identifiers")
    return body


def _object(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name) or {}
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be an object")
    return value


def _names(body: dict[str, Any]) -> list[str]:
    value = body.get("drop") or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("drop must be a list of field names")
    return value
