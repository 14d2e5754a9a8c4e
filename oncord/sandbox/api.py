"""The /v1 routes: Cliniko's list, show and patient-write endpoints over the sandbox store."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, request

from oncord.sandbox.catalog import render_settings, render_user
from oncord.sandbox.query import Filter, QueryError, parse_filters, parse_sort
from oncord.sandbox.responses import JSON_TYPE, json_response, message, validation_failed
from oncord.sandbox.spec import Q_FILTERS
from oncord.sandbox.store import RESOURCES, NotFound, SandboxStore
from oncord.sandbox.validation import ValidationFailed

bp = Blueprint("cliniko", __name__, url_prefix="/v1")

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 100
_INTEGER = re.compile(r"-?[0-9]{1,12}")


class BodyError(Exception):
    """A request body that is not usable JSON; carries the response to send."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def store() -> SandboxStore:
    """The store of the sandbox app serving this request."""
    return current_app.extensions["oncord_sandbox"].store


def api_base() -> str:
    """Absolute API root for links, from the host the request was sent to."""
    return request.host_url + "v1"


@bp.errorhandler(QueryError)
def _bad_query(error: QueryError) -> Response:
    return message(error.message, 400)


@bp.errorhandler(BodyError)
def _bad_body(error: BodyError) -> Response:
    return error.response


@bp.errorhandler(ValidationFailed)
def _invalid(error: ValidationFailed) -> Response:
    return validation_failed(error.errors)


@bp.errorhandler(NotFound)
def _missing(error: NotFound) -> Response:
    return message(str(error), 404)


# ---- account ------------------------------------------------------------------------------


@bp.get("/user")
def user() -> Response:
    """GET /user: the API key's owner."""
    return json_response(render_user(store().catalog, api_base()))


@bp.get("/settings")
def settings() -> Response:
    """GET /settings: the account settings an admin sees."""
    return json_response(render_settings(store().catalog, admin=True))


@bp.get("/settings/public")
def public_settings() -> Response:
    """GET /settings/public: the settings any user may read."""
    return json_response(render_settings(store().catalog, admin=False))


# ---- lists and single records -----------------------------------------------------------


def _filters(operation: str) -> list:
    raws = request.args.getlist("q[]") + request.args.getlist("q")
    return parse_filters(raws, Q_FILTERS[operation])


def _int_arg(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not _INTEGER.fullmatch(raw):
        raise QueryError(f"{name} must be a whole number")
    return int(raw)


def list_records(
    kind: str, operation: str, *, active: bool | None = None, extra: Sequence[Filter] = ()
) -> Response:
    """A paginated, filtered, sorted list in Cliniko's envelope (`extra`: filters the path implies)."""
    page = _int_arg("page", 1)
    per_page = _int_arg("per_page", DEFAULT_PER_PAGE)
    if page < 1:
        raise QueryError("page must be 1 or more")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise QueryError(f"per_page must be between 1 and {MAX_PER_PAGE}")
    filters = [*_filters(operation), *extra]
    data = store()
    sort = parse_sort(
        request.args.get("sort"), request.args.get("order"), data.tables[kind].view.sort_keys
    )
    records, total = data.page(
        kind, filters, sort, page=page, per_page=per_page, base=api_base(), active=active
    )
    links = json.dumps(_links(page, per_page, total))
    body = f'{{"{kind}":[{",".join(records)}],"total_entries":{total},"links":{links}}}'
    return Response(body.encode(), content_type=JSON_TYPE)


def _links(page: int, per_page: int, total: int) -> dict[str, str]:
    # Keep every other parameter (filters, per_page, sort) so following links is enough.
    kept = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]

    def at(number: int) -> str:
        return f"{request.base_url}?{urlencode([('page', number), *kept])}"

    links = {"self": at(page)}
    if page * per_page < total:
        links["next"] = at(page + 1)
    if page > 1:
        links["previous"] = at(page - 1)
    return links


def show_record(kind: str, operation: str, record_id: str) -> Response:
    """One record by id; hidden ones are 404 unless the matching `:*`/`:?` filter is sent."""
    data = store()
    index = data.find(kind, record_id, _filters(operation))
    with data.lock:
        body = data.tables[kind].render_json(index, api_base())
    return Response(body.encode(), content_type=JSON_TYPE)


def _collection(kind: str) -> None:
    operation = f"GET /{kind}"
    bp.add_url_rule(
        f"/{kind}", f"list_{kind}", lambda: list_records(kind, operation), methods=["GET"]
    )
    bp.add_url_rule(
        f"/{kind}/<record_id>", f"show_{kind}",
        lambda record_id: show_record(kind, f"{operation}/{{id}}", record_id), methods=["GET"],
    )


for _kind in RESOURCES:
    if _kind != "practitioners":
        _collection(_kind)


@bp.get("/practitioners")
def practitioners() -> Response:
    """GET /practitioners: active practitioners only."""
    return list_records("practitioners", "GET /practitioners", active=True)


@bp.get("/practitioners/inactive")
def inactive_practitioners() -> Response:
    """GET /practitioners/inactive: the ones who left."""
    return list_records("practitioners", "GET /practitioners/inactive", active=False)


@bp.get("/practitioners/<record_id>")
def practitioner(record_id: str) -> Response:
    """GET /practitioners/{id}: active or not."""
    return show_record("practitioners", "GET /practitioners/{id}", record_id)


@bp.get("/group_appointments/<record_id>/attendees")
def group_attendees(record_id: str) -> Response:
    """GET /group_appointments/{id}/attendees (deprecated): the class's attendees, paginated."""
    data = store()
    # An unknown (or hidden) class is a 404, as for GET /group_appointments/{id}.
    data.find("group_appointments", record_id)
    booking = Filter("booking_id", "=", [int(record_id)], f"booking_id:={record_id}")
    return list_records(
        "attendees", "GET /group_appointments/{id}/attendees", extra=[booking]
    )


# ---- patient writes -----------------------------------------------------------------------


def json_body() -> dict[str, Any]:
    """The request's JSON object; non-JSON is 400/415 and a non-object 422, as Cliniko does."""
    content_type = request.mimetype
    if content_type and "json" not in content_type:
        raise BodyError(message("Content-Type must be application/json", 415))
    raw = request.get_data(cache=False)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw, parse_constant=_refuse_constant)
        # Lone surrogates ("\ud800") parse but could never be sent back as UTF-8.
        json.dumps(body, ensure_ascii=False).encode()
    except (ValueError, RecursionError):
        raise BodyError(message("There was a problem in the JSON you submitted", 400)) from None
    if not isinstance(body, dict):
        raise BodyError(message("must be an object", 422))
    return body


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _patient_response(index: int, status: int) -> Response:
    data = store()
    with data.lock:
        body = data.patients.render_json(index, api_base())
    return Response(body.encode(), status=status, content_type=JSON_TYPE)


@bp.post("/patients")
def create_patient() -> Response:
    """POST /patients: 201 with a Location header and the new patient."""
    data = store()
    patient_id = data.create_patient(json_body())
    response = _patient_response(data.find("patients", patient_id), 201)
    response.headers["Location"] = f"{api_base()}/patients/{patient_id}"
    return response


@bp.route("/patients/<record_id>", methods=["PATCH", "PUT"])
def update_patient(record_id: str) -> Response:
    """PATCH or PUT /patients/{id}: 200 with the updated patient."""
    data = store()
    data.find("patients", record_id)  # an unknown or archived patient is 404 before validation
    index = data.update_patient(record_id, json_body(), visible_only=True)
    return _patient_response(index, 200)


@bp.post("/patients/<record_id>/archive")
@bp.delete("/patients/<record_id>")
def archive_patient(record_id: str) -> Response:
    """POST /patients/{id}/archive (or the deprecated DELETE): 204, and the patient is hidden."""
    store().set_patient_archived(record_id, True, visible_only=True)
    return Response(status=204)


@bp.post("/patients/<record_id>/unarchive")
def unarchive_patient(record_id: str) -> Response:
    """POST /patients/{id}/unarchive: 200 with the patient."""
    # Unarchiving has to find archived patients, so it looks past the default hiding.
    return _patient_response(store().set_patient_archived(record_id, False), 200)
