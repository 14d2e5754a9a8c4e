"""Parsing every relevant documented Cliniko payload, and building patient PATCH bodies."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oncord.cliniko.payloads import (
    MalformedRecord,
    PhoneNumber,
    parse_appointment_type,
    parse_attendee,
    parse_business,
    parse_group_appointment,
    parse_individual_appointment,
    parse_patient,
    parse_practitioner,
    parse_records,
    patient_changes_not_sent,
    patient_update_body,
)
from oncord.sync.patient_fields import CLINIKO_WRITES
from tests.cliniko.conftest import EXAMPLES, example


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# ----- patients ----------------------------------------------------------------------------


def test_patients_list_example():
    """The legacy list patient: int id becomes a string, "" timestamps become None."""
    (raw,) = example("patients_list.json")["patients"]
    patient = parse_patient(raw)
    assert patient.id == "1"
    assert (patient.first_name, patient.last_name, patient.preferred_first_name) == (
        "Peter", "Patientman", "Pete",
    )
    assert patient.email == "peter@example.com"
    assert patient.address_1 == "1 Smith Street"
    assert patient.address_2 is None and patient.address_3 is None
    assert (patient.city, patient.state, patient.post_code) == ("Melbourne", "Victoria", "3000")
    assert (patient.country, patient.country_code) == ("Australia", None)
    assert patient.date_of_birth == date(2001, 5, 26)
    assert (patient.sex, patient.gender_identity, patient.gender) == (
        "Female to Male", "Transgender", "Male",
    )
    assert patient.accepted_email_marketing is True
    assert patient.accepted_sms_marketing is False
    assert patient.reminder_type == "SMS & Email"
    assert patient.time_zone == "Australia/Melbourne"
    assert patient.archived_at is None and patient.deleted_at is None
    assert patient.merged_at is None and patient.merged_with_id is None
    assert patient.created_at == utc(2013, 3, 26, 14) == patient.updated_at
    assert patient.created_at.tzinfo is UTC


def test_duplicate_phone_numbers_key_keeps_the_populated_list():
    """The docs repeat patient_phone_numbers ([] then a list); JSON keeps the last, and Mobile wins."""
    text = (EXAMPLES / "patients_list.json").read_text()
    assert text.count('"patient_phone_numbers"') == 2
    patient = parse_patient(example("patients_list.json")["patients"][0])
    assert patient.phone == "61444444444"
    assert patient.phone_numbers == (
        PhoneNumber("61444444444", "Mobile"),
        PhoneNumber("61399999999", "Home"),
    )


@pytest.mark.parametrize(
    "name",
    ["patient.json", "patient_update_response.json", "patient_unarchive_response.json"],
)
def test_single_patient_examples(name):
    """Every single-patient example parses, with the Mobile number picked."""
    patient = parse_patient(example(name))
    assert patient.id == "1"
    assert patient.phone == "61444444444"
    assert patient.archived_at is None
    assert patient.date_of_birth == date(2001, 5, 26)


def test_patient_reminder_type_none_is_clinikos_word_not_null():
    """"None" is one of Cliniko's reminder_type values (no reminders), kept as text."""
    assert parse_patient(example("patient.json")).reminder_type == "None"


def test_created_patient_with_empty_values():
    """The create response: "" date of birth and e-mail, and no phone numbers at all."""
    patient = parse_patient(example("patient_create_response.json"))
    assert (patient.first_name, patient.last_name) == ("John", "Snow")
    assert patient.date_of_birth is None
    assert patient.email is None
    assert patient.phone is None and patient.phone_numbers == ()
    assert patient.time_zone is None


def test_archived_merged_patient():
    """The archived example carries archived_at, merged_at and the survivor's id."""
    (raw,) = example("patients_archived_list.json")["patients"]
    patient = parse_patient(raw)
    assert patient.archived_at == utc(2013, 6, 5, 14, 37, 18)
    assert patient.merged_at == utc(2013, 6, 5, 14, 37, 18)
    assert patient.merged_with_id == "1001"
    assert patient.reminder_type == "SMS"


def test_deleted_patient_stub_is_reported_with_its_id():
    """Legacy /patients/deleted items have only deleted_at and links: skipped, named by id."""
    (raw,) = example("patients_deleted_list.json")["patients"]
    with pytest.raises(MalformedRecord) as caught:
        parse_patient(raw)
    assert caught.value.resource == "patient"
    assert caught.value.record_id == "1"


def test_issue_360_string_ids_short_and_long():
    """Real au1 ids: short and 18-digit, both stay exact strings."""
    patients = [parse_patient(raw) for raw in example("patients_partial_string_ids_issue360.json")]
    assert [p.id for p in patients] == [
        "75335355", "836447129235883061", "837047015488620153", "839282071800120868",
    ]
    assert all(isinstance(p.id, str) for p in patients)
    assert all(p.accepted_sms_marketing is True for p in patients)
    assert all(p.accepted_email_marketing is False for p in patients)
    # The issue author truncated the records; missing names read as empty, not as errors.
    assert patients[0].first_name == "" and patients[0].email is None


def test_large_id_never_goes_through_float():
    """A 19-digit id is kept digit for digit (a float would round it)."""
    raw = copy.deepcopy(example("patient.json"))
    raw["id"] = "1390710863102485699"
    assert parse_patient(raw).id == "1390710863102485699"
    raw["id"] = 1.390710863102485699e18
    with pytest.raises(MalformedRecord):
        parse_patient(raw)


def test_phone_pick_falls_back_to_first_number():
    """Without a Mobile entry the first number is used; Mobile is matched case-insensitively."""
    raw = copy.deepcopy(example("patient.json"))
    raw["patient_phone_numbers"] = [
        {"phone_type": "Home", "number": "0399999999"},
        {"phone_type": "Work", "number": "0388888888"},
    ]
    assert parse_patient(raw).phone == "0399999999"
    raw["patient_phone_numbers"].append({"phone_type": "mobile", "number": "0411111111"})
    assert parse_patient(raw).phone == "0411111111"
    raw["patient_phone_numbers"] = None
    assert parse_patient(raw).phone is None


def test_timestamps_with_offsets_become_utc():
    """Any offset is converted to UTC; a timestamp without a zone is refused."""
    raw = copy.deepcopy(example("patient.json"))
    raw["updated_at"] = "2024-05-01T13:00:00+10:00"
    assert parse_patient(raw).updated_at == utc(2024, 5, 1, 3)
    raw["updated_at"] = "2024-05-01T13:00:00"
    with pytest.raises(MalformedRecord, match="updated_at has no time zone"):
        parse_patient(raw)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("created_at", None),
        ("updated_at", "yesterday"),
        ("date_of_birth", "2001-02-30"),
        ("date_of_birth", "26/05/2001"),
        ("accepted_sms_marketing", "yes"),
        ("email", ["peter@example.com"]),
        ("patient_phone_numbers", "61444444444"),
        ("merged_with_patient", {"links": {"self": "https://api.au1.cliniko.com/v1/patients/x"}}),
        ("id", None),
    ],
)
def test_bad_fields_raise_malformed_record_without_the_value(field, value):
    """A bad field raises MalformedRecord whose reason names the field, never the data."""
    raw = copy.deepcopy(example("patient.json"))
    raw[field] = value
    with pytest.raises(MalformedRecord) as caught:
        parse_patient(raw)
    assert caught.value.record_id == "1"  # even without a usable id: read from links.self
    assert "peter@example.com" not in str(caught.value)
    assert "61444444444" not in str(caught.value)
    assert "2001" not in caught.value.reason


def test_non_object_record():
    """A list item that is not an object is skipped without an id."""
    with pytest.raises(MalformedRecord) as caught:
        parse_patient(["not", "a", "record"])
    assert caught.value.record_id is None


def test_parse_records_separates_good_from_bad():
    """One bad record does not stop the rest of the page."""
    good = example("patient.json")
    bad = {"id": "99", "created_at": "garbage", "updated_at": "garbage"}
    parsed, failures = parse_records([good, bad, good], parse_patient)
    assert [p.id for p in parsed] == ["1", "1"]
    assert [(f.resource, f.record_id) for f in failures] == [("patient", "99")]


# ----- individual appointments -------------------------------------------------------------


def test_individual_appointments_list_example():
    """Related ids come from link objects' last path segment, as strings."""
    (raw,) = example("individual_appointments_list.json")["individual_appointments"]
    appt = parse_individual_appointment(raw)
    assert appt.id == "1"
    assert (appt.patient_id, appt.practitioner_id, appt.appointment_type_id, appt.business_id) == (
        "82", "1", "2", "1",
    )
    assert appt.patient_name == "Joe Monahan"
    assert appt.starts_at == utc(2016, 7, 21, 3, 45)
    assert appt.ends_at == utc(2016, 7, 21, 4, 30)
    assert appt.cancelled_at is None and appt.cancellation_reason is None
    assert appt.cancellation_reason_description is None  # "" when not cancelled
    assert appt.cancellation_note is None
    assert appt.patient_arrived is False and appt.did_not_arrive is False
    assert appt.archived_at is None and appt.deleted_at is None
    assert appt.created_at == utc(2016, 6, 28, 21, 33, 26)
    assert appt.updated_at == utc(2016, 7, 22, 15, 10, 8)


def test_cancelled_appointment_example():
    """The cancelled example: reason 50 "Other" with a note."""
    (raw,) = example("individual_appointments_cancelled_list.json")["individual_appointments"]
    appt = parse_individual_appointment(raw)
    assert appt.cancelled_at == utc(2016, 7, 22, 15, 10, 8)
    assert appt.cancellation_reason == 50
    assert appt.cancellation_reason_description == "Other"
    assert appt.cancellation_note == "Last minute cancellation"


def test_deleted_appointment_example():
    """The deleted example carries deleted_at."""
    (raw,) = example("individual_appointments_deleted_list.json")["individual_appointments"]
    assert parse_individual_appointment(raw).deleted_at == utc(2016, 7, 22, 15, 10, 8)


@pytest.mark.parametrize(
    ("name", "ends_at", "patient_id"),
    [
        ("individual_appointment.json", utc(2016, 7, 21, 4, 30), "82"),
        ("individual_appointment_create_response.json", utc(2016, 7, 21, 4, 30), "1"),
        ("individual_appointment_update_response.json", utc(2016, 7, 21, 4, 45), "1"),
    ],
)
def test_single_appointment_examples(name, ends_at, patient_id):
    """Single, created and updated appointment examples all parse."""
    appt = parse_individual_appointment(example(name))
    assert appt.ends_at == ends_at
    assert appt.patient_id == patient_id


def test_real_au4_appointment_from_bookings():
    """The real au4 record: 19-digit string ids survive exactly."""
    appt = parse_individual_appointment(example("booking_individual_appointment_real_au4.json"))
    assert appt.id == "1390726237298631770"
    assert appt.patient_id == "1390710863102485699"
    assert appt.practitioner_id == "1390053863163176768"
    assert appt.appointment_type_id == "1390053865100944805"
    assert appt.business_id == "1390053865344214699"
    assert appt.archived_at is None
    assert appt.starts_at == utc(2024, 4, 2, 14, 45)


def test_openapi_sample_placeholder_id_is_refused_but_fields_parse():
    """The spec sample's id is the word "string": refused; with a real id every field parses."""
    raw = example("individual_appointment_openapi_sample.json")
    with pytest.raises(MalformedRecord) as caught:
        parse_individual_appointment(raw)
    assert caught.value.record_id == "1"  # recovered from links.self
    fixed = {**raw, "id": "1"}
    appt = parse_individual_appointment(fixed)
    assert appt.cancellation_reason == 0
    assert appt.cancellation_reason_description == "Feeling Better"
    assert appt.patient_arrived is True and appt.did_not_arrive is True
    assert appt.archived_at == appt.cancelled_at == appt.deleted_at == utc(2019, 8, 24, 14, 15, 22)


def test_arrival_flags_can_be_null():
    """Unticking arrival in Cliniko nulls both flags (issue #153)."""
    raw = {**example("individual_appointment.json"), "patient_arrived": None, "did_not_arrive": None}
    appt = parse_individual_appointment(raw)
    assert appt.patient_arrived is None and appt.did_not_arrive is None


def test_bookings_feed_individual_item_parses_and_others_are_refused():
    """In the mixed /bookings feed only the item with a patient link is an individual appointment."""
    group, block, individual = example("bookings_list.json")["bookings"]
    appt = parse_individual_appointment(individual)
    assert (appt.id, appt.patient_id, appt.business_id) == ("1009", "773", "3")
    for other in (group, block):
        with pytest.raises(MalformedRecord, match="patient link is missing"):
            parse_individual_appointment(other)


# ----- reference data ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "archived"),
    [
        ("appointment_types_list.json", None),
        ("appointment_types_archived_list.json", utc(2016, 6, 28, 21, 33, 26)),
    ],
)
def test_appointment_type_lists(name, archived):
    """Live and archived appointment types parse with string ids."""
    (raw,) = example(name)["appointment_types"]
    kind = parse_appointment_type(raw)
    assert kind.id == "514810976034364376"
    assert (kind.name, kind.category, kind.color) == ("Initial Consultation", "Osteopathy", "#00FF00")
    assert kind.duration_in_minutes == 60
    assert kind.show_in_online_bookings is True
    assert kind.telehealth_enabled is None
    assert kind.archived_at == archived


def test_single_and_created_appointment_type():
    """The single and created examples parse; nulls stay None."""
    assert parse_appointment_type(example("appointment_type.json")).name == "Initial Consultation"
    created = parse_appointment_type(example("appointment_type_create_response.json"))
    assert created.category is None and created.show_in_online_bookings is None
    assert created.duration_in_minutes == 5


def test_practitioners_examples():
    """Label is the display name when display_name is absent; `active` comes from the list."""
    (raw,) = example("practitioners_list.json")["practitioners"]
    randy = parse_practitioner(raw, active=True)
    assert randy.id == "514810972972521916"
    assert randy.display_name == "Randy Savage"
    assert (randy.first_name, randy.last_name, randy.title) == ("Randy", "Savage", "Mr")
    assert randy.designation == "Osteopath"
    assert randy.active is True
    assert parse_practitioner(raw).active is None  # legacy record, no hint given
    assert parse_practitioner(example("practitioner.json")).label == "Randy Savage"

    (raw_inactive,) = example("practitioners_inactive_list.json")["practitioners"]
    andy = parse_practitioner(raw_inactive, active=False)
    assert andy.id == "3"
    assert andy.display_name == "Mr Andy Savage"  # no label: built from the name
    assert andy.active is False


def test_practitioner_own_active_flag_wins():
    """A current record's own `active` beats the caller's hint."""
    raw = {**example("practitioner.json"), "active": False, "display_name": "Dr R. Savage"}
    practitioner = parse_practitioner(raw, active=True)
    assert practitioner.active is False
    assert practitioner.display_name == "Dr R. Savage"


def test_business_examples():
    """Businesses: business_name is the name; legacy records have no time zone."""
    (raw,) = example("businesses_list.json")["businesses"]
    for business in (parse_business(raw), parse_business(example("business.json"))):
        assert business.id == "514810976554457178"
        assert business.name == "Healthy Times"
        assert business.display_name is None
        assert business.time_zone_identifier is None
        assert business.archived_at is None


def test_current_business_with_time_zone():
    """A current-shape business carries its IANA time zone and archive time."""
    raw = {
        **example("business.json"),
        "time_zone": "Melbourne",
        "time_zone_identifier": "Australia/Melbourne",
        "archived_at": "2024-01-02T03:04:05Z",
    }
    business = parse_business(raw)
    assert business.time_zone_identifier == "Australia/Melbourne"
    assert business.archived_at == utc(2024, 1, 2, 3, 4, 5)


def test_parsed_fields_exist_in_the_official_schema():
    """Every Cliniko field the patient parser reads is in the official Patient schema."""
    schema = example("openapi_subset_schemas.json")["schemas"]["Patient"]["properties"]
    read = {
        "id", "first_name", "last_name", "preferred_first_name", "email", "patient_phone_numbers",
        "address_1", "address_2", "address_3", "city", "state", "post_code", "country",
        "country_code", "date_of_birth", "sex", "gender_identity", "gender",
        "accepted_email_marketing", "accepted_sms_marketing", "reminder_type", "time_zone",
        "archived_at", "deleted_at", "merged_at", "merged_with_patient", "created_at", "updated_at",
    }
    assert read <= set(schema)


# ----- patient PATCH body ------------------------------------------------------------------


def test_update_body_maps_every_local_field():
    """Local names map to Cliniko's request shape; the body only uses writable fields."""
    changes = {
        "first_name": "Peta", "last_name": "Patientwoman", "email": "peta@example.com",
        "phone": "0411 111 111", "address_1": "2 Smith St", "address_2": "", "address_3": None,
        "city": "Carlton", "state": "VIC", "post_code": "3053", "country_code": "au",
        "date_of_birth": date(1990, 1, 31), "sex": "Female", "gender_identity": "Woman",
        "accepted_email_marketing": True, "accepted_sms_marketing": False,
    }
    body = patient_update_body(changes, CLINIKO_WRITES)
    assert body == {
        "first_name": "Peta", "last_name": "Patientwoman", "email": "peta@example.com",
        "patient_phone_numbers": [{"number": "0411 111 111", "phone_type": "Mobile"}],
        "address_1": "2 Smith St", "address_2": None, "address_3": None, "city": "Carlton",
        "state": "VIC", "post_code": "3053", "country_code": "AU", "date_of_birth": "1990-01-31",
        "sex": "Female", "gender_identity": "Woman", "accepted_email_marketing": True,
        "unsubscribe_sms_marketing": True,
    }
    writable = example("openapi_subset_schemas.json")["requestBodies"]["Patient"]["properties"]
    assert set(body) <= set(writable)
    assert "gender" not in body


def test_phone_change_keeps_the_other_numbers():
    """Changing the phone replaces only the number it was read from; Home stays."""
    current = parse_patient(example("patient.json")).phone_numbers
    body = patient_update_body({"phone": "0422222222"}, CLINIKO_WRITES, current_phone_numbers=current)
    assert body["patient_phone_numbers"] == [
        {"number": "0422222222", "phone_type": "Mobile"},
        {"number": "61399999999", "phone_type": "Home"},
    ]
    cleared = patient_update_body({"phone": None}, CLINIKO_WRITES, current_phone_numbers=current)
    assert cleared["patient_phone_numbers"] == [{"number": "61399999999", "phone_type": "Home"}]


def test_sms_opt_in_is_not_sent_and_is_reported():
    """The API can unsubscribe but not re-subscribe: an opt-in yields no body key."""
    changes = {"accepted_sms_marketing": True}
    assert patient_update_body(changes, CLINIKO_WRITES) == {}
    assert patient_changes_not_sent(changes, CLINIKO_WRITES) == ["accepted_sms_marketing"]
    assert patient_changes_not_sent({"accepted_sms_marketing": False}, CLINIKO_WRITES) == []
    assert patient_update_body({"accepted_sms_marketing": False}, CLINIKO_WRITES) == {
        "unsubscribe_sms_marketing": True
    }


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"gender": "Male"}, ValueError),
        ({"notes": "x"}, ValueError),
        ({"first_name": ""}, ValueError),
        ({"last_name": None}, ValueError),
        ({"email": 5}, TypeError),
        ({"accepted_email_marketing": None}, TypeError),
        ({"accepted_sms_marketing": "no"}, TypeError),
        ({"date_of_birth": datetime(1990, 1, 1, tzinfo=UTC)}, TypeError),
        ({"date_of_birth": "01/01/1990"}, TypeError),
        ({"date_of_birth": "1990-02-30"}, ValueError),
        ({"phone": 61444444444}, TypeError),
    ],
)
def test_update_body_refuses_bad_changes(changes, error):
    """Unknown, deprecated and mistyped changes fail loudly instead of reaching Cliniko."""
    with pytest.raises(error):
        patient_update_body(changes, CLINIKO_WRITES)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_date_of_birth_round_trips(day):
    """A date, or its YYYY-MM-DD text, is sent as YYYY-MM-DD and parses back to the same date."""
    assert patient_update_body({"date_of_birth": day}, CLINIKO_WRITES) == {"date_of_birth": day.isoformat()}
    as_text = patient_update_body({"date_of_birth": day.isoformat()}, CLINIKO_WRITES)
    assert as_text["date_of_birth"] == day.isoformat()
    raw = {**example("patient.json"), "date_of_birth": day.isoformat()}
    assert parse_patient(raw).date_of_birth == day


# ----- classes -------------------------------------------------------------------------------


def test_group_appointment_example():
    """A class's times, capacity and related ids come from the documented example."""
    group = parse_group_appointment(example("group_appointment.json"))
    related = (group.appointment_type_id, group.practitioner_id, group.business_id)
    assert group.id == "1" and related == ("7", "1", "1")
    assert group.starts_at == utc(2016, 7, 13, 3, 45) and group.ends_at == utc(2016, 7, 13, 4, 15)
    assert group.max_attendees == 13 and group.archived_at is None


def test_attendee_examples():
    """An attendee names its booking and patient by link; arrived may be null; cancelled ones parse."""
    attendee = parse_attendee(example("attendee.json"))
    assert (attendee.id, attendee.booking_id, attendee.patient_id, attendee.arrived) == ("1", "1", "82", None)
    cancelled, failures = parse_records(example("attendees_cancelled_list.json")["attendees"], parse_attendee)
    assert failures == [] and all(a.cancelled_at is not None for a in cancelled)


def test_attendee_without_a_booking_link_is_malformed():
    """No booking link means the attendee cannot be placed: refused, named by id."""
    raw = copy.deepcopy(example("attendee.json"))
    del raw["booking"]
    with pytest.raises(MalformedRecord) as caught:
        parse_attendee(raw)
    assert caught.value.record_id == "1" and "booking" in caught.value.reason
