"""The real client against the project's Cliniko sandbox (oncord/sandbox) over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from oncord.cliniko.client import ClinikoClient
from oncord.cliniko.errors import AuthenticationFailed, MalformedResponse, ValidationFailed
from oncord.cliniko.pagination import Page
from oncord.cliniko.payloads import (
    parse_attendee,
    parse_group_appointment,
    parse_individual_appointment,
    parse_patient,
    parse_records,
    patient_update_body,
)
from oncord.cliniko.shards import shard_from_api_key
from oncord.sync.patient_fields import CLINIKO_WRITES

try:
    from oncord.sandbox.server import start_sandbox
except ImportError as exc:  # built in parallel by a teammate: say so rather than fail
    pytest.skip(f"oncord.sandbox.server is not importable: {exc}", allow_module_level=True)

USER_AGENT = "Oncord tests (dev@example.com)"


@pytest.fixture
def sandbox() -> Iterator[Any]:
    server = start_sandbox(patients=120, appointments=300, seed=7)
    yield server
    server.stop()


class Recorder:
    """A sleep that records instead of sleeping: tests notice waits without taking them."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)


@pytest.fixture
def sleeps() -> Recorder:
    return Recorder()


@pytest.fixture
def sandbox_client(sandbox: Any, sleeps: Recorder) -> Iterator[ClinikoClient]:
    client = ClinikoClient(sandbox.api_key, user_agent=USER_AGENT, base_url=sandbox.base_url,
                           sleep=sleeps, max_attempts=3)
    yield client
    client.close()


def _all_items(pages: Iterator[Page]) -> tuple[list[dict[str, Any]], set[int | None]]:
    items: list[dict[str, Any]] = []
    totals: set[int | None] = set()
    for page in pages:
        items.extend(page.items)
        totals.add(page.total_entries)
    return items, totals


def test_check_connection(sandbox: Any, sandbox_client: ClinikoClient):
    """The sandbox key validates and reports the account's subdomain, user and shard."""
    info = sandbox_client.check_connection()
    assert info.shard == shard_from_api_key(sandbox.api_key) == "au1"
    assert info.account_subdomain
    assert info.user_name
    assert info.web_base_url == f"https://{info.account_subdomain}.au1.cliniko.com"


def test_wrong_shard_key_is_rejected(sandbox: Any):
    """The same key issued for another shard is refused, as on the wrong Cliniko host."""
    other = sandbox.api_key.rsplit("-", 1)[0] + "-au2"
    with ClinikoClient(other, user_agent=USER_AGENT, base_url=sandbox.base_url) as client:
        with pytest.raises(AuthenticationFailed):
            client.get_user()


def test_pages_through_every_patient_including_archived(sandbox: Any, sandbox_client):
    """All patient pages, archived included, match the sandbox's own list and all parse."""
    items, totals = _all_items(sandbox_client.iter_patients(per_page=50))
    expected = sandbox.store.ids("patients", ["archived_at:*"])
    assert [item["id"] for item in items] == expected
    assert totals == {len(expected)}
    assert len(expected) > len(sandbox.store.ids("patients"))  # archived ones were hidden
    patients, failures = parse_records(items, parse_patient)
    assert failures == []
    assert any(p.archived_at is not None for p in patients)
    assert sandbox_client.stats.requests_made == 3
    assert sandbox_client.stats.rate_limit_waits == 0


def test_pages_through_every_appointment_including_cancelled(sandbox: Any, sandbox_client):
    """All appointment pages, archived and cancelled included, match and parse."""
    items, totals = _all_items(sandbox_client.iter_individual_appointments())
    expected = sandbox.store.ids("individual_appointments", ["archived_at:*", "cancelled_at:*"])
    assert [item["id"] for item in items] == expected
    assert totals == {len(expected)}
    appointments, failures = parse_records(items, parse_individual_appointment)
    assert failures == []
    assert any(a.cancelled_at is not None for a in appointments)
    patient_ids = set(sandbox.store.ids("patients", ["archived_at:*"]))
    assert {a.patient_id for a in appointments} <= patient_ids


def test_pages_through_classes_and_every_attendee(sandbox: Any, sandbox_client):
    """Classes (archived too) and attendees (archived and cancelled too) page and parse; incremental works."""
    items, _ = _all_items(sandbox_client.iter_group_appointments())
    assert [i["id"] for i in items] == sandbox.store.ids("group_appointments", ["archived_at:*"])
    classes, failures = parse_records(items, parse_group_appointment)
    assert failures == [] and classes
    every = ["archived_at:*", "cancelled_at:*"]
    items, totals = _all_items(sandbox_client.iter_attendees())
    assert [i["id"] for i in items] == sandbox.store.ids("attendees", every)
    attendees, failures = parse_records(items, parse_attendee)
    assert failures == [] and any(a.cancelled_at for a in attendees)
    assert {a.booking_id for a in attendees} >= {c.id for c in classes}
    since = max(a.updated_at for a in attendees)
    stamp = since.strftime("%Y-%m-%dT%H:%M:%SZ")
    items, _ = _all_items(sandbox_client.iter_attendees(updated_since=since))
    assert [i["id"] for i in items] == sandbox.store.ids("attendees", [*every, f"updated_at:>={stamp}"])
    one = attendees[-1]
    assert parse_attendee(sandbox_client.get_attendee(one.id)) == one


def test_incremental_patients(sandbox: Any, sandbox_client):
    """updated_since returns what the sandbox itself selects for the same filter."""
    since = datetime.fromtimestamp(sandbox.store.now(), UTC) - timedelta(days=30)
    items, _ = _all_items(sandbox_client.iter_patients(updated_since=since))
    stamp = since.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [i["id"] for i in items] == sandbox.store.ids(
        "patients", ["archived_at:*", f"updated_at:>={stamp}"]
    )


def test_reference_lists(sandbox: Any, sandbox_client):
    """Businesses, practitioners (active and inactive) and appointment types all page."""
    counts = sandbox.store.counts()
    businesses, _ = _all_items(sandbox_client.iter_businesses())
    types, _ = _all_items(sandbox_client.iter_appointment_types())
    active, _ = _all_items(sandbox_client.iter_practitioners())
    inactive, _ = _all_items(sandbox_client.iter_inactive_practitioners())
    assert len(businesses) == counts["businesses"]
    assert len(types) == counts["appointment_types"]
    assert len(active) + len(inactive) == counts["practitioners"]


def test_malformed_patient_is_skipped_and_named(sandbox: Any, sandbox_client):
    """A patient the parser cannot read is reported by id while the rest of the page parses."""
    victim = sandbox.store.ids("patients")[3]
    sandbox.store.malform_patient(victim, set={"created_at": "not a time"})
    first = next(iter(sandbox_client.iter_patients(per_page=10)))
    patients, failures = parse_records(first.items, parse_patient)
    assert [(f.resource, f.record_id) for f in failures] == [("patient", victim)]
    assert len(patients) == len(first.items) - 1


def test_injected_429_is_waited_out(sandbox: Any, sandbox_client, sleeps):
    """A 429 with X-RateLimit-Reset about a second away is waited (recorded) and retried."""
    sandbox.store.inject_fault("rate_limit", path="/v1/user", reset_in=1)
    assert sandbox_client.get_user()
    assert sandbox_client.stats.rate_limit_waits == 1
    (waited,) = sleeps.sleeps
    assert 0.25 <= waited <= 3.5


def test_injected_500_is_retried_and_bad_json_is_reported(sandbox: Any, sandbox_client):
    """A 500 is retried; a body cut off mid-record raises MalformedResponse."""
    sandbox.store.inject_fault("server_error", path="/v1/user", status=502)
    assert sandbox_client.get_user()
    assert sandbox_client.stats.retries == 1
    sandbox.store.inject_fault("invalid_json", path="/v1/patients")
    with pytest.raises(MalformedResponse):
        list(sandbox_client.iter_patients())


def test_create_update_and_fetch_patient(sandbox: Any, sandbox_client):
    """A created patient can be patched with patient_update_body and read back by id."""
    created = parse_patient(sandbox_client.create_patient({"first_name": "Ada", "last_name": "Byron"}))
    body = patient_update_body(
        {"email": "ada@example.com", "phone": "0412 345 678", "accepted_sms_marketing": False,
         "accepted_email_marketing": True, "date_of_birth": "1815-12-10"},
        CLINIKO_WRITES,
        current_phone_numbers=created.phone_numbers,
    )
    updated = parse_patient(sandbox_client.update_patient(created.id, body))
    assert updated.email == "ada@example.com"
    assert updated.phone == "0412 345 678"
    assert updated.accepted_sms_marketing is False
    assert updated.accepted_email_marketing is True
    assert updated.date_of_birth.isoformat() == "1815-12-10"
    fetched = parse_patient(sandbox_client.get_patient(created.id))
    assert fetched == updated


def test_archived_patient_fetched_by_id(sandbox: Any, sandbox_client):
    """get_patient finds an archived patient (Cliniko would 404 without archived_at:*)."""
    visible = set(sandbox.store.ids("patients"))
    archived = [i for i in sandbox.store.ids("patients", ["archived_at:*"]) if i not in visible]
    assert parse_patient(sandbox_client.get_patient(archived[0])).archived_at is not None


def test_validation_fault_on_patch(sandbox: Any, sandbox_client):
    """A 422 from the sandbox becomes ValidationFailed naming the field."""
    patient_id = sandbox.store.ids("patients")[0]
    sandbox.store.inject_fault("validation", field="email", message="is invalid")
    with pytest.raises(ValidationFailed) as caught:
        sandbox_client.update_patient(patient_id, {"email": "x@example.com"})
    assert caught.value.errors == {"email": "is invalid"}
