"""No request, however odd, makes the sandbox answer 5xx (only injected faults may)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oncord.sandbox.server import RunningSandbox, start_sandbox
from tests.sandbox.conftest import USER_AGENT

PATIENT_FIELDS = (
    "first_name", "last_name", "email", "date_of_birth", "patient_phone_numbers", "pronouns",
    "accepted_email_marketing", "unsubscribe_sms_marketing", "reminder_type", "time_zone",
    "country_code", "dva_card_number", "custom_fields", "concession_type_id", "title", "notes",
)
FILTER_FIELDS = (
    "id", "updated_at", "created_at", "archived_at", "cancelled_at", "first_name", "email",
    "date_of_birth", "patient_id", "did_not_arrive", "accepted_privacy_policy", "starts_at",
    "appointment_type_ids", "active", "nonsense",
)
OPERATORS = ("", "=", "!=", ">", ">=", "<", "<=", "~", "~~", "?", "!?", "*")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
bodies = st.one_of(
    st.fixed_dictionaries({}, optional={k: json_values for k in PATIENT_FIELDS}),
    json_values,
    st.binary(max_size=60),
)
segments = st.one_of(
    st.sampled_from(["1389004381927544808", "0", "-1", "9" * 30, "1e5", "%", "..", "archive"]),
    st.text(max_size=20),
)
paths = st.one_of(
    st.sampled_from([
        "/v1/patients", "/v1/individual_appointments", "/v1/appointment_types", "/v1/practitioners",
        "/v1/practitioners/inactive", "/v1/businesses", "/v1/user", "/v1/settings",
        "/v1/settings/public", "/_sandbox", "/_sandbox/requests", "/_sandbox/clock",
        "/_sandbox/rate_limit", "/_sandbox/patients", "/_sandbox/individual_appointments",
    ]),
    st.builds(lambda kind, seg: f"/v1/{kind}/{quote(seg, safe='')}",
              st.sampled_from(["patients", "individual_appointments", "appointment_types",
                               "practitioners", "businesses", "nowhere"]), segments),
    st.builds(lambda seg, action: f"/v1/patients/{quote(seg, safe='')}/{action}",
              segments, st.sampled_from(["archive", "unarchive", "x"])),
    st.builds(lambda kind, seg, tail: f"/_sandbox/{kind}/{quote(seg, safe='')}{tail}",
              st.sampled_from(["patients", "individual_appointments", "ids"]), segments,
              st.sampled_from(["", "/malform"])),
)
filters = st.builds(lambda f, op, v: f"{f}:{op}{v}", st.sampled_from(FILTER_FIELDS),
                    st.sampled_from(OPERATORS), st.text(max_size=25)) | st.text(max_size=25)
queries = st.fixed_dictionaries({}, optional={
    "q[]": st.lists(filters, max_size=3), "q": filters,
    "page": st.text(max_size=6) | st.integers(-2, 10**12).map(str),
    "per_page": st.text(max_size=4) | st.integers(-1, 150).map(str),
    "sort": st.text(max_size=20) | st.sampled_from(["updated_at:desc", "starts_at,id", "x"]),
    "order": st.text(max_size=5),
})
content_types = st.sampled_from([None, "application/json", "text/plain", "application/json; charset=utf-8"])


@pytest.fixture(scope="module")
def fuzz_sandbox() -> Iterator[tuple[RunningSandbox, requests.Session]]:
    with start_sandbox(patients=15, rate_limit=None) as sandbox, requests.Session() as session:
        session.auth = (sandbox.api_key, "")
        session.headers["User-Agent"] = USER_AGENT
        yield sandbox, session


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(method=st.sampled_from(["GET", "POST", "PATCH", "PUT", "DELETE"]), path=paths,
       query=queries, body=bodies, content_type=content_types)
def test_no_input_gets_a_5xx(fuzz_sandbox, method, path, query, body, content_type):
    """Random methods, paths, query strings and bodies are all answered below 500."""
    sandbox, session = fuzz_sandbox
    if isinstance(body, bytes):
        data = body
    else:
        data = requests.models.complexjson.dumps(body).encode()
    headers = {"Content-Type": content_type} if content_type else {}
    response = session.request(method, sandbox.root_url + path, params=query, data=data,
                               headers=headers, timeout=10)
    assert response.status_code < 500, (method, path, query, body, response.text[:300])
