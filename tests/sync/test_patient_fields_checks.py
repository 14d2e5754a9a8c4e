"""The patient field mapping (oncord.sync.patient_fields) both ways, as functions of their inputs:
what a pull stores from a Cliniko patient, what a push sends of a contact, which columns a 422
refuses, and how Cliniko's consent flags become statuses (oncord.contacts.consent.pulled_status)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oncord.cliniko.payloads import Patient, PhoneNumber
from oncord.contacts.consent import pulled_status
from oncord.models import Contact, MarketingStatus
from oncord.sync.patient_fields import (
    PUSHABLE_FIELDS,
    cliniko_changes,
    columns_refused,
    patient_columns,
    status_from_cliniko,
)

UPDATED = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
statuses = st.sampled_from(list(MarketingStatus))
flags = st.sampled_from([True, False, None])


def a_patient(**fields: object) -> Patient:
    """A Cliniko patient in Melbourne with every contact field set, changed by `fields`."""
    values: dict[str, object] = {
        "id": "1001",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "preferred_first_name": None,
        "email": "ada@example.com",
        "phone": "0412 345 678",
        "phone_numbers": (PhoneNumber("0412 345 678", "Mobile"),),
        "address_1": "1 Flinders St",
        "address_2": "Level 2",
        "address_3": "Suite 5",
        "city": "Melbourne",
        "state": "VIC",
        "post_code": "3000",
        "country": "Australia",
        "country_code": "AU",
        "date_of_birth": date(1985, 12, 10),
        "sex": "Female",
        "gender_identity": "Woman",
        "gender": "F",
        "accepted_email_marketing": True,
        "accepted_sms_marketing": False,
        "reminder_type": "SMS",
        "time_zone": "Melbourne",
        "archived_at": None,
        "deleted_at": None,
        "merged_at": None,
        "merged_with_id": None,
        "created_at": UPDATED,
        "updated_at": UPDATED,
    }
    values.update(fields)
    return Patient(**values)  # type: ignore[arg-type]


def a_contact(**fields: object) -> Contact:
    """A linked contact with every pushed field set, changed by `fields` (never saved)."""
    values: dict[str, object] = {
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": "grace@example.com",
        "phone": "0498 765 432",
        "address_1": "2 Collins St",
        "address_2": "Floor 3",
        "address_3": "Rear",
        "city": "Fitzroy",
        "state": "VIC",
        "post_code": "3065",
        "country_code": "NZ",
        "country": "New Zealand",
        "date_of_birth": date(1990, 1, 2),
        "sex": "Female",
        "gender_identity": "Woman",
        "email_marketing_status": MarketingStatus.SUBSCRIBED.value,
        "sms_marketing_status": MarketingStatus.PENDING.value,
        "cliniko_patient_id": "77",
    }
    values.update(fields)
    return Contact(**values)


# --- the pull: patient_columns ------------------------------------------------------------------


def test_a_pull_stores_every_contact_field_from_its_cliniko_name() -> None:
    """Names, address lines, city, state, post code, country, phone, date of birth, sex, gender
    identity, with the derived columns and the patient's bookkeeping; no consent, no `gender`."""
    assert patient_columns(a_patient(), default_region="AU") == {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "phone": "0412 345 678",
        "phone_e164": "+61412345678",
        "phone_is_mobile": True,
        "date_of_birth": date(1985, 12, 10),
        "sex": "Female",
        "gender_identity": "Woman",
        "address_1": "1 Flinders St",
        "address_2": "Level 2",
        "address_3": "Suite 5",
        "city": "Melbourne",
        "state": "VIC",
        "post_code": "3000",
        "country_code": "AU",
        "country": "Australia",
        "cliniko_reminder_type": "SMS",
        "archived_at": None,
        "cliniko_updated_at": UPDATED,
    }


def test_a_pull_keeps_each_field_in_its_own_column() -> None:
    """Every field read from its own attribute: distinct values land in distinct columns."""
    patient = a_patient(
        first_name="F",
        last_name="L",
        email="e@example.com",
        address_1="A1",
        address_2="A2",
        address_3="A3",
        city="C",
        state="S",
        post_code="P",
        sex="X",
        gender_identity="G",
        date_of_birth=date(2001, 2, 3),
        reminder_type="Email",
        archived_at=UPDATED,
    )
    columns = patient_columns(patient, default_region="AU")
    picked = {
        k: columns[k]
        for k in (
            "first_name",
            "last_name",
            "email",
            "address_1",
            "address_2",
            "address_3",
            "city",
            "state",
            "post_code",
            "sex",
            "gender_identity",
            "date_of_birth",
            "cliniko_reminder_type",
            "archived_at",
        )
    }
    assert picked == {
        "first_name": "F",
        "last_name": "L",
        "email": "e@example.com",
        "address_1": "A1",
        "address_2": "A2",
        "address_3": "A3",
        "city": "C",
        "state": "S",
        "post_code": "P",
        "sex": "X",
        "gender_identity": "G",
        "date_of_birth": date(2001, 2, 3),
        "cliniko_reminder_type": "Email",
        "archived_at": UPDATED,
    }


@pytest.mark.parametrize("blank", [None, ""])
def test_blank_names_are_empty_text_and_blank_fields_stay_blank(blank: str | None) -> None:
    """A name is never null; the other fields keep Cliniko's blank as it came."""
    patient = a_patient(
        first_name=blank,
        last_name=blank,
        email=blank,
        address_2=blank,
        city=blank,
        phone=None,
        phone_numbers=(),
        date_of_birth=None,
    )
    columns = patient_columns(patient, default_region="AU")
    assert (columns["first_name"], columns["last_name"]) == ("", "")
    assert (columns["email"], columns["address_2"], columns["city"]) == (blank, blank, blank)
    assert (columns["phone"], columns["phone_e164"], columns["phone_is_mobile"]) == (None, None, False)
    assert columns["date_of_birth"] is None


def test_the_country_code_wins_and_the_country_is_its_name() -> None:
    """Cliniko's code is stored; the country column is that code's name, not the legacy text."""
    columns = patient_columns(a_patient(country_code="NZ", country="Australia"), default_region="AU")
    assert (columns["country_code"], columns["country"]) == ("NZ", "New Zealand")


def test_a_legacy_country_text_gives_the_code() -> None:
    """An older record with only the free text gets the code it names."""
    columns = patient_columns(a_patient(country_code=None, country="New Zealand"), default_region="AU")
    assert (columns["country_code"], columns["country"]) == ("NZ", "New Zealand")


def test_an_unnamed_country_keeps_clinikos_text() -> None:
    """Text no code matches leaves the code empty and keeps Cliniko's words."""
    columns = patient_columns(a_patient(country_code=None, country="Atlantis"), default_region="AU")
    assert (columns["country_code"], columns["country"]) == (None, "Atlantis")


def test_the_phone_is_read_in_the_patients_country_else_the_clinics() -> None:
    """A local number is parsed in the patient's country; with none, in the default region."""
    nz = a_patient(phone="021 123 4567", country_code="NZ", country="New Zealand")
    columns = patient_columns(nz, default_region="AU")
    assert (columns["phone"], columns["phone_e164"], columns["phone_is_mobile"]) == (
        "021 123 4567",
        "+64211234567",
        True,
    )
    nowhere = a_patient(country_code=None, country=None)
    columns = patient_columns(nowhere, default_region="AU")
    assert (columns["phone_e164"], columns["phone_is_mobile"]) == ("+61412345678", True)
    landline = patient_columns(a_patient(phone="(03) 9123 4567"), default_region="AU")
    assert (landline["phone_e164"], landline["phone_is_mobile"]) == ("+61391234567", False)


# --- consent on pull ----------------------------------------------------------------------------


@given(accepted=flags)
def test_clinikos_acceptance_is_subscribed_only_when_true(accepted: bool | None) -> None:
    """true: Subscribed; false or null: Pending."""
    expected = MarketingStatus.SUBSCRIBED if accepted is True else MarketingStatus.PENDING
    assert status_from_cliniko(accepted) is expected


@given(current=st.none() | statuses, accepted=flags, held_locally=st.booleans())
def test_a_pull_never_resubscribes_an_unsubscribed_contact(
    current: MarketingStatus | None, accepted: bool | None, held_locally: bool
) -> None:
    """Unsubscribed stays; a Subscribed given here stays; otherwise Cliniko's flag decides."""
    status = pulled_status(current.value if current else None, accepted, held_locally=held_locally)
    if current is MarketingStatus.UNSUBSCRIBED:
        expected = "unsubscribed"
    elif held_locally and current is MarketingStatus.SUBSCRIBED:
        expected = "subscribed"
    else:
        expected = "subscribed" if accepted is True else "pending"
    assert status == expected


# --- the push: cliniko_changes ------------------------------------------------------------------


def test_a_push_sends_each_column_under_its_cliniko_name() -> None:
    """Every pushable column, with the current value, keyed by Cliniko's field name."""
    contact = a_contact()
    assert cliniko_changes(contact, set(PUSHABLE_FIELDS)) == {
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": "grace@example.com",
        "phone": "0498 765 432",
        "date_of_birth": date(1990, 1, 2),
        "sex": "Female",
        "gender_identity": "Woman",
        "address_1": "2 Collins St",
        "address_2": "Floor 3",
        "address_3": "Rear",
        "city": "Fitzroy",
        "state": "VIC",
        "post_code": "3065",
        "country_code": "NZ",
        "accepted_email_marketing": True,
        "accepted_sms_marketing": False,
    }


@pytest.mark.parametrize("column", sorted(PUSHABLE_FIELDS))
def test_a_push_sends_only_the_columns_asked_for(column: str) -> None:
    """One changed column gives one Cliniko field, nothing else."""
    changes = cliniko_changes(a_contact(), {column})
    assert len(changes) == 1
    expected_key = {
        "email_marketing_status": "accepted_email_marketing",
        "sms_marketing_status": "accepted_sms_marketing",
    }.get(column, column)
    assert list(changes) == [expected_key]


@given(email=statuses, sms=statuses)
def test_consent_is_sent_as_accepted_only_when_subscribed(
    email: MarketingStatus, sms: MarketingStatus
) -> None:
    """Pending and Unsubscribed are both "not accepted"; only Subscribed is true."""
    contact = a_contact(email_marketing_status=email.value, sms_marketing_status=sms.value)
    changes = cliniko_changes(contact, {"email_marketing_status", "sms_marketing_status"})
    assert changes == {
        "accepted_email_marketing": email is MarketingStatus.SUBSCRIBED,
        "accepted_sms_marketing": sms is MarketingStatus.SUBSCRIBED,
    }


def test_no_columns_send_nothing() -> None:
    assert cliniko_changes(a_contact(), set()) == {}


# --- refused fields: columns_refused --------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "column"),
    [
        ("first_name", "first_name"),
        ("last_name", "last_name"),
        ("email", "email"),
        ("patient_phone_numbers", "phone"),
        ("patient_phone_numbers[0]", "phone"),
        ("patient_phone_numbers[1].number", "phone"),
        ("patient_phone_numbers.number", "phone"),
        ("email.address", "email"),
        ("date_of_birth", "date_of_birth"),
        ("sex", "sex"),
        ("gender_identity", "gender_identity"),
        ("address_1", "address_1"),
        ("address_2", "address_2"),
        ("address_3", "address_3"),
        ("city", "city"),
        ("state", "state"),
        ("post_code", "post_code"),
        ("country_code", "country_code"),
        ("accepted_email_marketing", "email_marketing_status"),
        ("unsubscribe_sms_marketing", "sms_marketing_status"),
    ],
)
def test_a_refused_body_key_maps_back_to_its_column(key: str, column: str) -> None:
    """The key a 422 names is the column that was sent under it."""
    assert columns_refused({key: "is invalid"}, set(PUSHABLE_FIELDS)) == {column}
    assert columns_refused({key: "is invalid"}, set(PUSHABLE_FIELDS) - {column}) == set()


def test_only_the_named_and_sent_columns_are_refused() -> None:
    """Keys that are no body key of ours refuse nothing; a column not sent is never refused."""
    errors = {
        "email": "is invalid",
        "base": "bad",
        "accepted_sms_marketing": "x",
        "gender": "x",
        "patient_phone_numbers[0].number": "too short",
    }
    assert columns_refused(errors, {"email", "phone", "first_name"}) == {"email", "phone"}
    assert columns_refused(errors, {"first_name"}) == set()
    assert columns_refused({}, set(PUSHABLE_FIELDS)) == set()


def test_the_mapping_round_trips_a_patient_through_a_contact() -> None:
    """A pulled patient's columns, pushed back, name the same values Cliniko sent."""
    patient = a_patient(country="New Zealand", country_code="NZ")
    columns = patient_columns(patient, default_region="AU")
    contact = a_contact(**{k: v for k, v in columns.items() if hasattr(Contact, k)})
    pushed = cliniko_changes(
        contact, set(PUSHABLE_FIELDS) - {"email_marketing_status", "sms_marketing_status"}
    )
    assert pushed == {name: getattr(patient, name) for name in pushed}
