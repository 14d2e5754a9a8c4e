"""What a push sends (oncord.sync.push.PushSync), against an in-process stand-in for Cliniko: only
the changed fields, consent only as Subscribed means accepted, and a 422 that names one field fails
only that field of that patient."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from oncord.cliniko.errors import ClinikoError, NotFound, ValidationFailed
from oncord.db import get_database
from oncord.models import Contact, MarketingStatus, PatientChange
from oncord.sync.outbox import record_changes
from oncord.sync.push import PushResult, PushSync
from tests.factories import make_contact


class FakeCliniko:
    """Takes PATCHes and remembers them; `refuse` maps a patient id to the errors of its PATCHes
    (one per call, in order); `during` runs once, after the first PATCH is taken."""

    def __init__(
        self,
        refuse: dict[str, list[ClinikoError]] | None = None,
        during: Callable[[], None] | None = None,
        numbers: list[dict[str, str]] | None = None,
    ) -> None:
        self.patches: list[tuple[str, dict[str, Any]]] = []
        self.gets: list[str] = []
        self.refuse = refuse or {}
        self.during = during
        self.numbers = numbers or []

    def get_patient(self, patient_id: str) -> dict[str, Any]:
        self.gets.append(patient_id)
        return {
            "id": patient_id,
            "first_name": "Old",
            "last_name": "Name",
            "patient_phone_numbers": self.numbers,
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        }

    def update_patient(self, patient_id: str, body: dict[str, Any]) -> dict[str, Any]:
        self.patches.append((patient_id, body))
        if self.during is not None:
            during, self.during = self.during, None
            during()
        errors = self.refuse.get(patient_id)
        if errors:
            raise errors.pop(0)
        return {"id": patient_id}


def push(app, cliniko: FakeCliniko, clock) -> PushResult:
    return PushSync(get_database(app), cliniko, clock).run()  # type: ignore[arg-type]


def linked(session, clock, patient_id: str = "501", **fields: object) -> Contact:
    values: dict[str, object] = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "phone": "0412 345 678",
        "city": "Melbourne",
        "post_code": "3000",
        "country_code": "AU",
        "date_of_birth": date(1985, 12, 10),
        "email_marketing_status": MarketingStatus.PENDING.value,
        "sms_marketing_status": MarketingStatus.PENDING.value,
    }
    values.update(fields)
    return make_contact(session, clock, cliniko_patient_id=patient_id, **values)


def edit(session, clock, contact: Contact, **values: object) -> None:
    for name, value in values.items():
        setattr(contact, name, value)
    assert record_changes(session, contact, values, clock.now()) is True
    session.commit()


def rows(session, contact: Contact) -> dict[str, tuple[str, int, str | None, bool]]:
    """Per field: status, attempts, error, whether open, of the contact's newest row."""
    session.expire_all()
    found = session.scalars(
        select(PatientChange).where(PatientChange.contact_id == contact.id).order_by(PatientChange.id)
    )
    return {r.field: (r.status, r.attempts, r.error, r.open_key == "open") for r in found}


# --- only changed fields ------------------------------------------------------------------------


def test_a_push_sends_only_the_changed_fields_with_their_current_values(app, db_session, clock) -> None:
    contact = linked(db_session, clock)
    edit(db_session, clock, contact, city="Fitzroy", post_code="3065")
    clock.advance(seconds=30)
    edit(db_session, clock, contact, city="Carlton")
    cliniko = FakeCliniko()
    result = push(app, cliniko, clock)
    assert cliniko.patches == [("501", {"city": "Carlton", "post_code": "3065"})]
    assert cliniko.gets == []
    assert (result.contacts_pushed, result.fields_pushed, result.fields_failed, result.problems) == (
        1,
        2,
        0,
        [],
    )
    assert rows(db_session, contact) == {
        "city": ("pushed", 1, None, False),
        "post_code": ("pushed", 1, None, False),
    }


def test_each_contact_is_its_own_patch_and_a_second_push_sends_nothing(app, db_session, clock) -> None:
    first = linked(db_session, clock, "501")
    second = linked(db_session, clock, "502", email="grace@example.com")
    edit(db_session, clock, second, first_name="Grace", date_of_birth=date(1990, 1, 2))
    edit(db_session, clock, first, country_code="NZ")
    cliniko = FakeCliniko()
    push(app, cliniko, clock)
    assert cliniko.patches == [
        ("501", {"country_code": "NZ"}),
        ("502", {"first_name": "Grace", "date_of_birth": "1990-01-02"}),
    ]
    again = FakeCliniko()
    result = push(app, again, clock)
    assert again.patches == []
    assert (result.contacts_pushed, result.fields_pushed) == (0, 0)


def test_a_phone_edit_replaces_the_mobile_and_keeps_the_other_numbers(app, db_session, clock) -> None:
    contact = linked(db_session, clock)
    edit(db_session, clock, contact, phone="0498 765 432")
    cliniko = FakeCliniko(
        numbers=[
            {"number": "03 9123 4567", "phone_type": "Home"},
            {"number": "0412 345 678", "phone_type": "Mobile"},
        ]
    )
    push(app, cliniko, clock)
    assert cliniko.gets == ["501"]
    assert cliniko.patches == [
        (
            "501",
            {
                "patient_phone_numbers": [
                    {"number": "0498 765 432", "phone_type": "Mobile"},
                    {"number": "03 9123 4567", "phone_type": "Home"},
                ]
            },
        )
    ]


def test_a_cleared_optional_field_is_sent_as_null(app, db_session, clock) -> None:
    contact = linked(db_session, clock)
    edit(db_session, clock, contact, city=None, date_of_birth=None)
    cliniko = FakeCliniko()
    push(app, cliniko, clock)
    assert cliniko.patches == [("501", {"city": None, "date_of_birth": None})]


def test_an_unlinked_or_unrecorded_contact_is_not_pushed(app, db_session, clock) -> None:
    make_contact(db_session, clock, email="local@example.com")
    contact = linked(db_session, clock)
    contact.city = "Fitzroy"  # changed without an outbox row: nothing is owed
    db_session.commit()
    cliniko = FakeCliniko()
    assert push(app, cliniko, clock) == PushResult()
    assert cliniko.patches == []


# --- consent ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", list(MarketingStatus))
def test_email_consent_is_accepted_only_when_subscribed(
    app, db_session, clock, status: MarketingStatus
) -> None:
    """A Pending or Unsubscribed e-mail status is never sent as accepted_email_marketing true."""
    other = MarketingStatus.PENDING if status is MarketingStatus.SUBSCRIBED else MarketingStatus.SUBSCRIBED
    contact = linked(db_session, clock, email_marketing_status=other.value)
    edit(db_session, clock, contact, email_marketing_status=status.value)
    cliniko = FakeCliniko()
    push(app, cliniko, clock)
    assert cliniko.patches == [("501", {"accepted_email_marketing": status is MarketingStatus.SUBSCRIBED})]


@pytest.mark.parametrize("status", list(MarketingStatus))
def test_sms_consent_is_only_ever_sent_as_an_unsubscribe(
    app, db_session, clock, status: MarketingStatus
) -> None:
    """Cliniko's API cannot opt in to SMS: Subscribed sends no PATCH at all, the others unsubscribe."""
    contact = linked(db_session, clock)
    edit(db_session, clock, contact, sms_marketing_status=status.value)
    cliniko = FakeCliniko()
    result = push(app, cliniko, clock)
    if status is MarketingStatus.SUBSCRIBED:
        assert cliniko.patches == []
    else:
        assert cliniko.patches == [("501", {"unsubscribe_sms_marketing": True})]
    assert (result.contacts_pushed, result.fields_pushed) == (1, 1)
    assert rows(db_session, contact) == {"sms_marketing_status": ("pushed", 1, None, False)}


# --- a 422 ----------------------------------------------------------------------------------------


def test_a_422_for_one_field_fails_only_that_field_of_that_patient(app, db_session, clock) -> None:
    first = linked(db_session, clock, "501")
    second = linked(db_session, clock, "502")
    edit(db_session, clock, first, email="not-an-address", city="Fitzroy")
    edit(db_session, clock, second, email="grace@example.com")
    refusal = ValidationFailed("Validation Failed", {"email": "is invalid"})
    cliniko = FakeCliniko(refuse={"501": [refusal]})
    result = push(app, cliniko, clock)
    assert cliniko.patches == [
        ("501", {"city": "Fitzroy", "email": "not-an-address"}),
        ("501", {"city": "Fitzroy"}),
        ("502", {"email": "grace@example.com"}),
    ]
    message = "Cliniko did not accept the change: email is invalid. Correct it and try again."
    assert refusal.user_message == message
    assert rows(db_session, first) == {
        "city": ("pushed", 1, None, False),
        "email": ("failed", 1, message, True),
    }
    assert rows(db_session, second) == {"email": ("pushed", 1, None, False)}
    assert (result.contacts_pushed, result.fields_pushed, result.fields_failed) == (2, 2, 1)
    assert result.problems == [{"contact_id": first.id, "reason": message}]


def test_a_failed_field_is_not_pushed_again_until_it_is_edited(app, db_session, clock) -> None:
    contact = linked(db_session, clock)
    edit(db_session, clock, contact, email="bad")
    cliniko = FakeCliniko(refuse={"501": [ValidationFailed(None, {"email": "is invalid"})]})
    push(app, cliniko, clock)
    again = FakeCliniko()
    push(app, again, clock)
    assert again.patches == []
    edit(db_session, clock, contact, email="good@example.com")
    push(app, again, clock)
    assert again.patches == [("501", {"email": "good@example.com"})]
    assert rows(db_session, contact) == {"email": ("pushed", 2, None, False)}


@pytest.mark.parametrize("errors", [{"email": "is invalid", "city": "is too long"}, {"base": "no"}, {}])
def test_a_422_naming_every_field_or_none_of_ours_fails_them_all(app, db_session, clock, errors) -> None:
    contact = linked(db_session, clock)
    edit(db_session, clock, contact, email="x", city="y")
    refusal = ValidationFailed("Validation Failed", errors)
    cliniko = FakeCliniko(refuse={"501": [refusal]})
    result = push(app, cliniko, clock)
    assert len(cliniko.patches) == 1
    failed = ("failed", 1, refusal.user_message, True)
    assert rows(db_session, contact) == {"city": failed, "email": failed}
    assert (result.contacts_pushed, result.fields_pushed, result.fields_failed) == (0, 0, 2)
    assert result.problems == [{"contact_id": contact.id, "reason": refusal.user_message}]


def test_a_422_on_the_rest_fails_the_rest(app, db_session, clock) -> None:
    contact = linked(db_session, clock)
    edit(db_session, clock, contact, email="x", city="y")
    first = ValidationFailed(None, {"email": "is invalid"})
    second = ValidationFailed(None, {"city": "is too long"})
    cliniko = FakeCliniko(refuse={"501": [first, second]})
    result = push(app, cliniko, clock)
    assert cliniko.patches == [("501", {"city": "y", "email": "x"}), ("501", {"city": "y"})]
    assert rows(db_session, contact) == {
        "city": ("failed", 1, second.user_message, True),
        "email": ("failed", 1, first.user_message, True),
    }
    assert (result.contacts_pushed, result.fields_pushed, result.fields_failed) == (0, 0, 2)


def test_a_deleted_patient_fails_every_field_with_the_reason(app, db_session, clock) -> None:
    contact = linked(db_session, clock)
    edit(db_session, clock, contact, email="x@example.com", city="y")
    cliniko = FakeCliniko(refuse={"501": [NotFound("404")]})
    result = push(app, cliniko, clock)
    reason = "This patient no longer exists in Cliniko (deleted or merged), so the edit was not sent."
    failed = ("failed", 1, reason, True)
    assert rows(db_session, contact) == {"city": failed, "email": failed}
    assert (result.fields_failed, result.problems) == (2, [{"contact_id": contact.id, "reason": reason}])


def test_a_value_cliniko_cannot_take_fails_without_a_patch(app, db_session, clock) -> None:
    """A blank required name is refused here, before any request."""
    contact = linked(db_session, clock)
    edit(db_session, clock, contact, first_name="", city="y")
    cliniko = FakeCliniko()
    result = push(app, cliniko, clock)
    assert cliniko.patches == []
    reason = "Cliniko cannot take this value: Cliniko requires first_name; it cannot be cleared."
    failed = ("failed", 1, reason, True)
    assert rows(db_session, contact) == {"city": failed, "first_name": failed}
    assert (result.fields_failed, result.problems) == (2, [{"contact_id": contact.id, "reason": reason}])
