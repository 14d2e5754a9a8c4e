"""The client over real HTTP against a local scripted server: headers, pages, retries, errors."""

from __future__ import annotations

import base64
import json
import socket
from datetime import UTC, datetime, timedelta, timezone

import pytest

from oncord.cliniko.client import ClinikoClient
from oncord.cliniko.errors import (
    AuthenticationFailed,
    BadRequest,
    ClinikoError,
    ClinikoUnavailable,
    MalformedResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
    WriteOutcomeUnknown,
)
from tests.cliniko.conftest import (
    API_KEY,
    TIMEOUT_SECONDS,
    UNTIL_STOPPED,
    USER_AGENT,
    FakeCliniko,
    Reply,
    Seen,
    example,
)

BASIC = "Basic " + base64.b64encode(f"{API_KEY}:".encode()).decode()
USER = {"id": "1", "first_name": "John", "last_name": "Smith", "email": "john@example.com",
        "time_zone": "Melbourne", "time_zone_identifier": "Australia/Melbourne"}


def page(key: str, items: list[dict], total: int, next_url: str | None = None) -> Reply:
    links = {"self": "ignored"}
    if next_url:
        links["next"] = next_url
    return Reply(body={key: items, "total_entries": total, "links": links})


# ----- headers and auth --------------------------------------------------------------------


def test_sends_basic_auth_user_agent_and_accept(fake_api, make_client):
    """Every request carries Basic auth (key, empty password), our User-Agent and Accept JSON."""
    fake_api.on("GET", "/v1/user", Reply(body=USER))
    assert make_client().get_user()["first_name"] == "John"
    (seen,) = fake_api.seen
    assert seen.headers["Authorization"] == BASIC
    assert seen.headers["User-Agent"] == USER_AGENT
    assert seen.headers["Accept"] == "application/json"
    assert "Content-Type" not in seen.headers


def test_documented_basic_header_goes_on_the_wire(fake_api, make_client):
    """The key from cliniko-api.md produces exactly the documented Authorization header."""
    fake_api.on("GET", "/v1/user", Reply(body=USER))
    make_client(api_key="MxJrZXkiOiI1Njd1amJmZTQ1NyJ9-au2").get_user()
    assert fake_api.seen[0].headers["Authorization"] == (
        "Basic TXhKclpYa2lPaUkxTmpkMWFtSm1aVFExTnlKOS1hdTI6"
    )


def test_base_url_override_with_shard_placeholder(fake_api, make_client):
    """An override containing {shard} is filled from the key's suffix (au2)."""
    fake_api.on("GET", "/au2/v1/user", Reply(body=USER))
    client = make_client(base_url=fake_api.origin + "/{shard}/v1")
    assert client.base_url == fake_api.origin + "/au2/v1"
    client.get_user()
    assert fake_api.seen[0].path == "/au2/v1/user"


def test_constructor_validation():
    """A missing key, a UA without contact e-mail or a bad page size are refused up front."""
    with pytest.raises(ValueError):
        ClinikoClient("  ", user_agent=USER_AGENT)
    with pytest.raises(ValueError):
        ClinikoClient(API_KEY, user_agent="python-requests/2.32")
    with pytest.raises(ValueError):
        ClinikoClient(API_KEY, user_agent=USER_AGENT, max_attempts=0)
    client = ClinikoClient(API_KEY, user_agent=USER_AGENT)
    assert client.base_url == "https://api.au2.cliniko.com/v1"
    assert API_KEY not in repr(client)
    with pytest.raises(ValueError):
        list(client.iter_pages("/patients", per_page=101))
    with pytest.raises(TypeError):
        list(client.iter_pages("/patients", filters="archived_at:*"))
    client.close()


# ----- pagination --------------------------------------------------------------------------


def test_pagination_follows_next_until_absent(fake_api, make_client):
    """Pages are followed through absolute links.next until there is none."""
    base = fake_api.base_url
    fake_api.on(
        "GET", "/v1/patients",
        page("patients", [{"id": "1"}, {"id": "2"}], 5,
             f"{base}/patients?page=2&per_page=2&q%5B%5D=archived_at%3A%2A"),
        page("patients", [{"id": "3"}, {"id": "4"}], 5,
             f"{base}/patients?page=3&per_page=2&q%5B%5D=archived_at%3A%2A"),
        page("patients", [{"id": "5"}], 5),
    )
    client = make_client()
    pages = list(client.iter_pages("/patients", filters=["archived_at:*"], per_page=2))
    assert [[i["id"] for i in p.items] for p in pages] == [["1", "2"], ["3", "4"], ["5"]]
    assert [p.total_entries for p in pages] == [5, 5, 5]
    assert [p.page_number for p in pages] == [1, 2, 3]
    assert pages[-1].next_url is None
    seen = fake_api.requests_to("/v1/patients")
    assert len(seen) == 3 == client.stats.requests_made
    assert [s.values("page") for s in seen] == [[], ["2"], ["3"]]
    for request in seen:
        assert request.values("per_page") == ["2"]
        assert request.values("q[]") == ["archived_at:*"]
        assert "q%5B%5D=" in request.raw_query


def test_pagination_restores_dropped_per_page_and_filters(fake_api, make_client):
    """A next link that lost per_page and filters (issue #16) gets ours back."""
    fake_api.on(
        "GET", "/v1/individual_appointments",
        page("individual_appointments", [{"id": "1"}], 2,
             f"{fake_api.base_url}/individual_appointments?page=2"),
        page("individual_appointments", [{"id": "2"}], 2),
    )
    pages = list(make_client().iter_individual_appointments())
    assert len(pages) == 2
    second = fake_api.requests_to("/v1/individual_appointments")[1]
    assert second.values("page") == ["2"]
    assert second.values("per_page") == ["100"]
    assert second.values("q[]") == ["archived_at:*", "cancelled_at:*"]


def test_next_link_to_another_host_stays_on_ours(fake_api, make_client):
    """A next link naming another host (here the legacy bare one) is fetched from ours instead."""
    fake_api.on(
        "GET", "/v1/businesses",
        page("businesses", [{"id": "1"}], 2, "https://api.cliniko.com/v1/businesses?page=2"),
        page("businesses", [{"id": "2"}], 2),
    )
    pages = list(make_client().iter_businesses())
    assert [p.items[0]["id"] for p in pages] == ["1", "2"]
    assert fake_api.requests_to("/v1/businesses")[1].values("page") == ["2"]


def test_pagination_loop_is_detected(fake_api, make_client):
    """A next link that points back at itself stops with MalformedResponse, not forever."""
    fake_api.on("GET", "/v1/patients",
                page("patients", [{"id": "1"}], 1, f"{fake_api.base_url}/patients?page=2"))
    with pytest.raises(MalformedResponse):
        list(make_client().iter_patients())
    assert len(fake_api.seen) <= 3


def test_documented_list_example_over_http(fake_api, make_client):
    """The documented businesses envelope (with its total_entires typo) pages fine."""
    fake_api.on("GET", "/v1/businesses", Reply(body=example("businesses_list.json")))
    (only,) = list(make_client().iter_businesses())
    assert only.total_entries == 1
    assert only.items[0]["business_name"] == "Healthy Times"


def test_envelope_without_the_collection_is_malformed(fake_api, make_client):
    """A list reply without a list raises MalformedResponse."""
    fake_api.on("GET", "/v1/patients", Reply(body={"total_entries": 0, "links": {}}))
    with pytest.raises(MalformedResponse):
        list(make_client().iter_patients())


# ----- visibility filters ------------------------------------------------------------------


def test_patient_filters_with_updated_since(fake_api, make_client):
    """Patients always include archived ones; updated_since becomes a UTC Z filter."""
    fake_api.on("GET", "/v1/patients", page("patients", [], 0))
    since = datetime(2024, 5, 1, 13, 0, 0, 750000, tzinfo=timezone(timedelta(hours=10)))
    list(make_client().iter_patients(updated_since=since))
    (seen,) = fake_api.seen
    assert seen.values("q[]") == ["archived_at:*", "updated_at:>=2024-05-01T03:00:00Z"]
    assert seen.values("per_page") == ["100"]


def test_naive_updated_since_is_refused(make_client):
    """A naive datetime is ambiguous and refused before any request."""
    with pytest.raises(ValueError):
        list(make_client().iter_patients(updated_since=datetime(2024, 5, 1)))


@pytest.mark.parametrize(
    ("method", "path", "filters"),
    [
        ("iter_individual_appointments", "/v1/individual_appointments",
         ["archived_at:*", "cancelled_at:*"]),
        ("iter_practitioners", "/v1/practitioners", []),
        ("iter_inactive_practitioners", "/v1/practitioners/inactive", []),
        ("iter_appointment_types", "/v1/appointment_types", ["archived_at:*"]),
        ("iter_businesses", "/v1/businesses", ["archived_at:*"]),
    ],
)
def test_resource_helpers_add_visibility_filters(fake_api, make_client, method, path, filters):
    """Each helper asks for hidden records as Cliniko requires."""
    key = "practitioners" if "practitioners" in path else path.rsplit("/", 1)[1]
    fake_api.on("GET", path, page(key, [{"id": "1"}], 1))
    pages = list(getattr(make_client(), method)())
    assert pages[0].items == [{"id": "1"}]
    assert fake_api.seen[0].values("q[]") == filters


def test_appointments_updated_since(fake_api, make_client):
    """Appointments combine both visibility filters with updated_since."""
    fake_api.on("GET", "/v1/individual_appointments", page("individual_appointments", [], 0))
    list(make_client().iter_individual_appointments(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)))
    assert fake_api.seen[0].values("q[]") == [
        "archived_at:*", "cancelled_at:*", "updated_at:>=2024-01-02T03:04:05Z",
    ]


def test_single_record_gets_show_hidden_records(fake_api, make_client):
    """Fetching one patient or appointment by id still finds archived/cancelled ones."""
    fake_api.on("GET", "/v1/patients/1390710863102485699", Reply(body=example("patient.json")))
    fake_api.on("GET", "/v1/individual_appointments/77",
                Reply(body=example("individual_appointment.json")))
    client = make_client()
    assert client.get_patient("1390710863102485699")["first_name"] == "Peter"
    assert client.get_individual_appointment("77")["patient_name"] == "Joe Monahan"
    assert fake_api.seen[0].values("q[]") == ["archived_at:*"]
    assert fake_api.seen[1].values("q[]") == ["archived_at:*", "cancelled_at:*"]


def test_ids_must_be_digit_strings(make_client):
    """Ids are strings of digits: numbers and path tricks are refused before sending."""
    client = make_client()
    with pytest.raises(TypeError):
        client.get_patient(1390710863102485699)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        client.get_patient("../settings")


# ----- writes ------------------------------------------------------------------------------


def test_create_and_update_patient(fake_api, make_client):
    """POST and PATCH send JSON bodies with Content-Type and return the stored patient."""
    fake_api.on("POST", "/v1/patients",
                Reply(201, body=example("patient_create_response.json"),
                      headers={"Location": f"{fake_api.base_url}/patients/1"}))
    fake_api.on("PATCH", "/v1/patients/1", Reply(body=example("patient_update_response.json")))
    client = make_client()
    created = client.create_patient({"first_name": "John", "last_name": "Snow"})
    updated = client.update_patient("1", {"appointment_notes": "Go for fist bumps"})
    assert created["last_name"] == "Snow" and updated["first_name"] == "John"
    post, patch = fake_api.seen
    assert post.headers["Content-Type"] == "application/json"
    assert json.loads(post.body) == {"first_name": "John", "last_name": "Snow"}
    assert patch.method == "PATCH"
    assert json.loads(patch.body) == {"appointment_notes": "Go for fist bumps"}


def test_create_is_not_retried_after_a_server_error(fake_api, make_client, fake_time):
    """A 500 on create may have created the patient: no blind retry, WriteOutcomeUnknown."""
    fake_api.on("POST", "/v1/patients", Reply(500, text="oops"), Reply(201, body={"id": "1"}))
    with pytest.raises(WriteOutcomeUnknown) as caught:
        make_client().create_patient({"first_name": "A", "last_name": "B"})
    assert len(fake_api.seen) == 1
    assert fake_time.sleeps == []
    assert "duplicate" in caught.value.user_message


def test_create_is_not_retried_after_a_timeout(fake_api, make_client):
    """A timed-out create is reported as unknown, never re-sent."""
    fake_api.on("POST", "/v1/patients", Reply(201, body={"id": "1"}, delay=UNTIL_STOPPED))
    with pytest.raises(WriteOutcomeUnknown):
        make_client(timeout=TIMEOUT_SECONDS).create_patient({"first_name": "A", "last_name": "B"})
    assert len(fake_api.seen) == 1


def test_create_is_retried_after_429(fake_api, make_client, fake_time):
    """A 429 means Cliniko did not process the create, so it is safe to send again."""
    fake_api.on("POST", "/v1/patients",
                Reply(429, headers={"X-RateLimit-Reset": str(int(fake_time.now) + 5)}),
                Reply(201, body={"id": "9"}))
    assert make_client().create_patient({"first_name": "A", "last_name": "B"}) == {"id": "9"}
    assert len(fake_api.seen) == 2


def test_patch_is_retried_after_a_timeout(fake_api, make_client):
    """PATCH with the same body is idempotent, so a timeout is retried with the same body."""
    fake_api.on("PATCH", "/v1/patients/5",
                Reply(200, body={"id": "5"}, delay=UNTIL_STOPPED), Reply(200, body={"id": "5"}))
    client = make_client(timeout=TIMEOUT_SECONDS)
    assert client.update_patient("5", {"email": "a@example.com"}) == {"id": "5"}
    first, second = fake_api.seen
    assert first.body == second.body
    assert client.stats.retries == 1


# ----- rate limits -------------------------------------------------------------------------


def test_429_waits_until_x_ratelimit_reset(fake_api, make_client, fake_time):
    """On 429 the client sleeps until X-RateLimit-Reset plus a little jitter, then retries."""
    reset = int(fake_time.now) + 30
    fake_api.on("GET", "/v1/user",
                Reply(429, text="", headers={"X-RateLimit-Reset": str(reset)}),
                Reply(body=USER))
    start = fake_time.now
    client = make_client()
    assert client.get_user()["id"] == "1"
    (waited,) = fake_time.sleeps
    assert 30.25 <= waited < 31.25
    assert reset - start + 0.25 <= waited
    assert client.stats.rate_limit_waits == 1
    assert client.stats.retries == 1
    assert client.stats.requests_made == 2


def test_retry_after_is_honoured(fake_api, make_client, fake_time):
    """A Retry-After header (seconds) sets the wait when present."""
    fake_api.on("GET", "/v1/user", Reply(429, headers={"Retry-After": "7"}), Reply(body=USER))
    make_client().get_user()
    (waited,) = fake_time.sleeps
    assert 7.25 <= waited < 8.25


def test_both_headers_wait_for_the_later(fake_api, make_client, fake_time):
    """With Retry-After and X-RateLimit-Reset both present, both are satisfied."""
    fake_api.on("GET", "/v1/user",
                Reply(429, headers={"Retry-After": "3",
                                    "X-RateLimit-Reset": str(int(fake_time.now) + 12)}),
                Reply(body=USER))
    make_client().get_user()
    assert 12.25 <= fake_time.sleeps[0] < 13.25


def test_429_without_headers_backs_off(fake_api, make_client, fake_time):
    """Without either header the wait is exponential backoff."""
    fake_api.on("GET", "/v1/user", Reply(429), Reply(429), Reply(body=USER))
    make_client().get_user()
    first, second = fake_time.sleeps
    assert 0.5 <= first <= 1.0
    assert 1.0 <= second <= 2.0


def test_reset_far_in_the_future_waits_at_most_a_window(fake_api, make_client, fake_time):
    """A reset an hour away means clocks disagree; the wait is capped near one minute."""
    fake_api.on("GET", "/v1/user",
                Reply(429, headers={"X-RateLimit-Reset": str(int(fake_time.now) + 3600)}),
                Reply(body=USER))
    make_client().get_user()
    assert 60.25 <= fake_time.sleeps[0] < 61.25


def test_persistent_429_raises_rate_limited(fake_api, make_client, fake_time):
    """After max_attempts the client gives up with RateLimited and a retry hint."""
    fake_api.on("GET", "/v1/user",
                Reply(429, headers={"X-RateLimit-Reset": str(int(fake_time.now) + 10)}))
    client = make_client(max_attempts=3)
    with pytest.raises(RateLimited) as caught:
        client.get_user()
    assert len(fake_api.seen) == 3
    assert len(fake_time.sleeps) == 2
    assert caught.value.retry_after is not None
    assert client.stats.rate_limit_waits == 2


def test_very_long_retry_after_is_not_slept_through(fake_api, make_client, fake_time):
    """An hour-long Retry-After raises at once so the job can be rescheduled."""
    fake_api.on("GET", "/v1/user", Reply(429, headers={"Retry-After": "3600"}))
    with pytest.raises(RateLimited) as caught:
        make_client().get_user()
    assert caught.value.retry_after == 3600
    assert fake_time.sleeps == []
    assert len(fake_api.seen) == 1


class CountingBudget:
    """A budget that records each acquisition and reports a wait for every third one."""

    def __init__(self) -> None:
        self.taken = 0

    def acquire(self) -> float:
        self.taken += 1
        return 1.5 if self.taken % 3 == 0 else 0.0


def test_every_send_takes_from_the_budget_it_was_given(fake_api, make_client, fake_time):
    """Each request asks the injected budget first, and its waits are counted as throttling."""
    fake_api.on("GET", "/v1/user", Reply(body=USER))
    budget = CountingBudget()
    client = make_client(budget=budget)
    for _ in range(7):
        client.get_user()
    assert budget.taken == 7
    assert client.stats.throttle_waits == 2
    assert client.stats.seconds_waited == 3.0
    assert client.stats.rate_limit_waits == 0


def test_retries_and_pages_take_from_the_budget_too(fake_api, make_client, fake_time):
    """Retries and page fetches each cost one request of the budget."""
    fake_api.on("GET", "/v1/patients",
                page("patients", [{"id": "1"}], 2, f"{fake_api.base_url}/patients?page=2"),
                Reply(503), page("patients", [{"id": "2"}], 2))
    budget = CountingBudget()
    client = make_client(budget=budget)
    assert len(list(client.iter_patients())) == 2
    assert budget.taken == len(fake_api.seen) == 3
    assert client.stats.throttle_waits == 1


# ----- server errors and timeouts ----------------------------------------------------------


def test_500_then_success(fake_api, make_client, fake_time):
    """A 5xx on a GET is retried after a backoff."""
    fake_api.on("GET", "/v1/user", Reply(500, text="Internal Server Error"), Reply(body=USER))
    client = make_client()
    assert client.get_user()["id"] == "1"
    (waited,) = fake_time.sleeps
    assert 0.5 <= waited <= 1.0
    assert client.stats.retries == 1


def test_timeout_then_success(fake_api, make_client, fake_time):
    """A read timeout on a GET is retried; no real sleeping happens in the client."""
    fake_api.on("GET", "/v1/user", Reply(body=USER, delay=UNTIL_STOPPED), Reply(body=USER))
    client = make_client(timeout=TIMEOUT_SECONDS)
    assert client.get_user()["id"] == "1"
    assert len(fake_api.seen) == 2
    assert len(fake_time.sleeps) == 1


def test_persistent_5xx_raises_unavailable(fake_api, make_client, fake_time):
    """After max_attempts 5xx replies the client raises ClinikoUnavailable."""
    fake_api.on("GET", "/v1/user", Reply(503, text="<html>down</html>", content_type="text/html"))
    client = make_client(max_attempts=4)
    with pytest.raises(ClinikoUnavailable) as caught:
        client.get_user()
    assert not isinstance(caught.value, WriteOutcomeUnknown)
    assert caught.value.status_code == 503
    assert len(fake_api.seen) == 4
    first, second, third = fake_time.sleeps
    assert 0.5 <= first <= 1.0 and 1.0 <= second <= 2.0 and 2.0 <= third <= 4.0


def test_503_retry_after_is_respected(fake_api, make_client, fake_time):
    """A 503 with Retry-After waits at least that long."""
    fake_api.on("GET", "/v1/user", Reply(503, headers={"Retry-After": "20"}), Reply(body=USER))
    make_client().get_user()
    assert fake_time.sleeps[0] >= 20


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_connection_refused_is_retried_then_unavailable(make_client, fake_time):
    """Nobody listening: retried with backoff, then ClinikoUnavailable."""
    client = make_client(base_url=f"http://127.0.0.1:{_closed_port()}/v1", max_attempts=3)
    with pytest.raises(ClinikoUnavailable) as caught:
        client.get_user()
    assert client.stats.requests_made == 3
    assert len(fake_time.sleeps) == 2
    assert caught.value.__cause__ is None and caught.value.__context__ is None


def test_create_is_retried_when_connection_was_refused(make_client, fake_time):
    """A refused connection never reached Cliniko, so even a create may be re-sent."""
    client = make_client(base_url=f"http://127.0.0.1:{_closed_port()}/v1", max_attempts=2)
    with pytest.raises(ClinikoUnavailable) as caught:
        client.create_patient({"first_name": "A", "last_name": "B"})
    assert not isinstance(caught.value, WriteOutcomeUnknown)
    assert client.stats.requests_made == 2


# ----- 4xx and bad replies -----------------------------------------------------------------


def test_401_authentication_failed_without_retry(fake_api, make_client, fake_time):
    """A rejected key raises AuthenticationFailed at once."""
    fake_api.on("GET", "/v1/user",
                Reply(401, text="HTTP Basic: Access denied.\n", content_type="text/plain"))
    with pytest.raises(AuthenticationFailed) as caught:
        make_client().get_user()
    assert caught.value.user_message.startswith("Cliniko rejected the API key")
    assert caught.value.status_code == 401
    assert len(fake_api.seen) == 1 and fake_time.sleeps == []


def test_403_and_html_404(fake_api, make_client):
    """403 is PermissionDenied; Cliniko's HTML 404 page is NotFound."""
    fake_api.on("GET", "/v1/patients/1", Reply(403, body={"message": "Forbidden"}))
    client = make_client()
    with pytest.raises(PermissionDenied):
        client.get_patient("1")
    with pytest.raises(NotFound) as caught:
        client.get_patient("2")  # unscripted route: HTML "Cliniko - 404"
    assert caught.value.status_code == 404


def test_422_validation_failed_with_fields(fake_api, make_client):
    """Issue #349's 422 body becomes ValidationFailed with per-field messages."""
    fake_api.on("POST", "/v1/patients", Reply(422, body=example("error_422_validation_issue349.json")))
    with pytest.raises(ValidationFailed) as caught:
        make_client().create_patient({"first_name": ""})
    assert caught.value.message == "Validation Failed"
    assert caught.value.errors == {"name": "can’t be blank", "patient": "can’t be blank", "content": None}


def test_422_openapi_and_message_only_bodies(fake_api, make_client):
    """The spec's 422 shape and the message-only 422 both parse."""
    fake_api.on("PATCH", "/v1/patients/1",
                Reply(422, body=example("error_422_validation_openapi.json")),
                Reply(422, body=example("error_422_message_only_issue254.json")))
    client = make_client()
    with pytest.raises(ValidationFailed) as first:
        client.update_patient("1", {})
    assert first.value.errors == {"api_field": "error message"}
    with pytest.raises(ValidationFailed) as second:
        client.update_patient("1", {})
    assert second.value.errors == {} and second.value.message == "must be an object"


def test_400_bad_request_with_clinikos_message(fake_api, make_client):
    """Issue #231's 400 becomes BadRequest carrying Cliniko's message."""
    fake_api.on("GET", "/v1/patients", Reply(400, body=example("error_400_not_searchable_issue231.json")))
    with pytest.raises(BadRequest) as caught:
        list(make_client().iter_pages("/patients", filters=["notes:~x"]))
    assert caught.value.message == "This column is not searchable."
    assert len(fake_api.seen) == 1


@pytest.mark.parametrize(
    "reply",
    [
        Reply(200, text="<html>maintenance</html>", content_type="text/html"),
        Reply(200, text=""),
        Reply(200, body=["not", "an", "object"]),
        Reply(200, text="null"),
    ],
)
def test_non_json_or_wrong_shape_is_malformed(fake_api, make_client, reply):
    """A 200 that is not a JSON object raises MalformedResponse."""
    fake_api.on("GET", "/v1/user", reply)
    with pytest.raises(MalformedResponse):
        make_client().get_user()


def test_redirect_is_reported_not_followed(fake_api, make_client):
    """A redirect could drop auth or turn POST into GET, so it is reported instead."""
    fake_api.on("GET", "/v1/user", Reply(301, headers={"Location": "https://elsewhere.example/v1/user"}))
    with pytest.raises(ClinikoError) as caught:
        make_client().get_user()
    assert caught.value.status_code == 301
    assert len(fake_api.seen) == 1


# ----- the key never leaks -----------------------------------------------------------------


def _echo_secrets(seen: Seen, _: FakeCliniko) -> Reply:
    """A hostile reply quoting the key and the Authorization header back."""
    leak = f"key {API_KEY} header {seen.headers.get('Authorization')} bare {API_KEY[:-4]}"
    return Reply(400, body={"message": leak})


def _leaky_422(seen: Seen, _: FakeCliniko) -> Reply:
    return Reply(422, body={"message": API_KEY, "errors": {"email": [API_KEY], "x": API_KEY}})


def _leaky_text(status: int) -> Reply:
    return Reply(status, text=f"error for {API_KEY}", content_type="text/plain")


@pytest.mark.parametrize(
    "responder",
    [_echo_secrets, _leaky_422, _leaky_text(418), _leaky_text(401), _leaky_text(403),
     _leaky_text(404), _leaky_text(500), _leaky_text(429), Reply(200, text=f"not json {API_KEY}")],
)
def test_key_never_appears_in_errors(fake_api, make_client, responder):
    """Whatever the reply echoes, no error text, repr or user message contains the key."""
    fake_api.on("GET", "/v1/user", responder)
    with pytest.raises(ClinikoError) as caught:
        make_client(max_attempts=2).get_user()
    _assert_no_secret(caught.value)


def test_key_never_appears_in_transport_errors(make_client):
    """Connection failures carry no chained exception holding the Authorization header."""
    client = make_client(base_url=f"http://127.0.0.1:{_closed_port()}/v1", max_attempts=1)
    with pytest.raises(ClinikoError) as caught:
        client.get_user()
    _assert_no_secret(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is None


def _assert_no_secret(error: ClinikoError) -> None:
    secrets = [API_KEY, API_KEY.rsplit("-", 1)[0], BASIC.split()[1]]
    texts = [str(error), repr(error), error.user_message, error.detail, repr(vars(error))]
    for text in texts:
        for secret in secrets:
            assert secret not in text


# ----- connection check --------------------------------------------------------------------


def test_check_connection(fake_api, make_client):
    """GET /user and GET /settings/public give the account, user, time zone and shard."""
    fake_api.on("GET", "/v1/user", Reply(body=USER))
    fake_api.on("GET", "/v1/settings/public", Reply(body=example("settings.json")))
    info = make_client().check_connection()
    assert info.shard == "au2"
    assert info.account_subdomain == "example"
    assert info.account_name == "Bins, Boehm and Baumbach"
    assert info.user_name == "John Smith"
    assert info.user_id == "1"
    assert info.time_zone_identifier == "Australia/Melbourne"
    assert info.web_base_url == "https://example.au2.cliniko.com"
    assert [s.path for s in fake_api.seen] == ["/v1/user", "/v1/settings/public"]


def test_check_connection_with_legacy_user(fake_api, make_client):
    """The legacy /user example (integer id, no time_zone_identifier) still works."""
    fake_api.on("GET", "/v1/user", Reply(body=example("user_authenticated.json")))
    fake_api.on("GET", "/v1/settings/public", Reply(body={"account": None}))
    info = make_client().check_connection()
    assert info.user_id == "1"
    assert info.time_zone_identifier is None and info.time_zone == "Melbourne"
    assert info.account_subdomain is None and info.web_base_url is None


def test_check_connection_with_bad_key(fake_api, make_client):
    """A rejected key during the check raises AuthenticationFailed for the settings page."""
    fake_api.on("GET", "/v1/user", Reply(401, text="HTTP Basic: Access denied."))
    with pytest.raises(AuthenticationFailed):
        make_client().check_connection()


def test_pages_are_fetched_lazily(fake_api, make_client):
    """The next page is requested only when the caller asks for it, so it can commit per page."""
    fake_api.on(
        "GET", "/v1/patients",
        page("patients", [{"id": "1"}], 2, f"{fake_api.base_url}/patients?page=2"),
        page("patients", [{"id": "2"}], 2),
    )
    pages = make_client().iter_patients()
    assert next(pages).items == [{"id": "1"}]
    assert len(fake_api.seen) == 1
    assert next(pages).items == [{"id": "2"}]
    assert len(fake_api.seen) == 2
