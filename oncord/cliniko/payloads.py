"""Parse raw Cliniko records into small frozen dataclasses, and build patient PATCH bodies.

Parsers accept both API generations: integer ids (legacy examples) become strings, and an
empty timestamp may be `""` (legacy) or null (current). A record that cannot be parsed
raises MalformedRecord, so the caller can skip and report it while the page syncs on.
Error reasons name fields and types only, never values: values may be health data.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from oncord.cliniko.errors import MalformedRecord

__all__ = [
    "AppointmentType",
    "Attendee",
    "Business",
    "GroupAppointment",
    "IndividualAppointment",
    "MalformedRecord",
    "Patient",
    "PhoneNumber",
    "Write",
    "Practitioner",
    "parse_appointment_type",
    "parse_attendee",
    "parse_business",
    "parse_group_appointment",
    "parse_individual_appointment",
    "parse_patient",
    "parse_practitioner",
    "parse_records",
    "patient_changes_not_sent",
    "patient_update_body",
]

T = TypeVar("T")

_DIGITS = re.compile(r"[0-9]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class PhoneNumber:
    """One of a patient's phone numbers as Cliniko lists it."""

    number: str
    phone_type: str | None
    normalized_number: str | None = None


@dataclass(frozen=True)
class Patient:
    """The patient fields the sync uses."""

    id: str
    first_name: str
    last_name: str
    preferred_first_name: str | None
    email: str | None
    phone: str | None
    phone_numbers: tuple[PhoneNumber, ...]
    address_1: str | None
    address_2: str | None
    address_3: str | None
    city: str | None
    state: str | None
    post_code: str | None
    # Cliniko deprecated the free-text `country` in favour of ISO `country_code`; legacy
    # records only have the former, so both are kept and neither is derived from the other.
    country: str | None
    country_code: str | None
    date_of_birth: date | None
    sex: str | None
    gender_identity: str | None
    gender: str | None  # deprecated by Cliniko: read-only, never sent back
    accepted_email_marketing: bool | None
    accepted_sms_marketing: bool | None
    reminder_type: str | None
    time_zone: str | None
    archived_at: datetime | None
    deleted_at: datetime | None
    merged_at: datetime | None
    merged_with_id: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class IndividualAppointment:
    """The individual-appointment fields the sync uses; related ids come from link objects."""

    id: str
    patient_id: str
    practitioner_id: str | None
    appointment_type_id: str | None
    business_id: str | None
    patient_name: str | None
    starts_at: datetime
    ends_at: datetime
    cancelled_at: datetime | None
    cancellation_reason: int | None
    cancellation_reason_description: str | None
    cancellation_note: str | None
    # true / false / null: unticking "arrived" or "did not arrive" in Cliniko nulls both.
    patient_arrived: bool | None
    did_not_arrive: bool | None
    archived_at: datetime | None
    deleted_at: datetime | None
    created_at: datetime
    updated_at: datetime
    # Cliniko has no "booked online" flag; only online bookings carry these two (section 9).
    booked_online: bool = False


@dataclass(frozen=True)
class GroupAppointment:
    """A class (group appointment): when, what and with whom; its patients are attendees."""

    id: str
    practitioner_id: str | None
    appointment_type_id: str | None
    business_id: str | None
    starts_at: datetime
    ends_at: datetime
    max_attendees: int | None
    archived_at: datetime | None
    deleted_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Attendee:
    """One patient booked into a booking (a class, or an individual appointment's own attendee)."""

    id: str
    # The booking's id: the group appointment's (or individual appointment's) id.
    booking_id: str
    patient_id: str
    # true / false / null; Cliniko does not document how "did not arrive" shows here.
    arrived: bool | None
    cancelled_at: datetime | None
    cancellation_reason: int | None
    cancellation_reason_description: str | None
    cancellation_note: str | None
    archived_at: datetime | None
    deleted_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class AppointmentType:
    """An appointment type (service) as the sync uses it."""

    id: str
    name: str
    category: str | None
    color: str | None
    duration_in_minutes: int | None
    show_in_online_bookings: bool | None
    telehealth_enabled: bool | None
    archived_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Practitioner:
    """A practitioner; `display_name` is the best available name for people to read."""

    id: str
    title: str | None
    first_name: str | None
    last_name: str | None
    display_name: str
    label: str | None
    designation: str | None
    active: bool | None
    show_in_online_bookings: bool | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Business:
    """A business (clinic location) with the time zone its appointments are shown in."""

    id: str
    name: str
    display_name: str | None
    time_zone: str | None
    time_zone_identifier: str | None
    archived_at: datetime | None
    created_at: datetime
    updated_at: datetime


# ----- parsers ------------------------------------------------------------------------------


def parse_patient(raw: object) -> Patient:
    """Parse one raw patient dict, raising MalformedRecord if it cannot be trusted."""
    r = _Reader("patient", raw)
    numbers = r.phone_numbers("patient_phone_numbers")
    return r.build(
        lambda: Patient(
            id=r.id(),
            first_name=r.text("first_name") or "",
            last_name=r.text("last_name") or "",
            preferred_first_name=r.text("preferred_first_name"),
            email=r.text("email"),
            phone=_preferred_phone(numbers),
            phone_numbers=numbers,
            address_1=r.text("address_1"),
            address_2=r.text("address_2"),
            address_3=r.text("address_3"),
            city=r.text("city"),
            state=r.text("state"),
            post_code=r.text("post_code"),
            country=r.text("country"),
            country_code=r.text("country_code"),
            date_of_birth=r.date("date_of_birth"),
            sex=r.text("sex"),
            gender_identity=r.text("gender_identity"),
            gender=r.text("gender"),
            accepted_email_marketing=r.flag("accepted_email_marketing"),
            accepted_sms_marketing=r.flag("accepted_sms_marketing"),
            reminder_type=r.text("reminder_type"),
            time_zone=r.text("time_zone"),
            archived_at=r.time("archived_at"),
            deleted_at=r.time("deleted_at"),
            merged_at=r.time("merged_at"),
            merged_with_id=r.link_id("merged_with_patient"),
            created_at=r.required_time("created_at"),
            updated_at=r.required_time("updated_at"),
        )
    )


def parse_individual_appointment(raw: object) -> IndividualAppointment:
    """Parse one raw individual appointment, raising MalformedRecord if it cannot be trusted."""
    r = _Reader("individual_appointment", raw)
    return r.build(
        lambda: IndividualAppointment(
            id=r.id(),
            patient_id=r.required_link_id("patient"),
            practitioner_id=r.link_id("practitioner"),
            appointment_type_id=r.link_id("appointment_type"),
            business_id=r.link_id("business"),
            patient_name=r.text("patient_name"),
            starts_at=r.required_time("starts_at"),
            ends_at=r.required_time("ends_at"),
            cancelled_at=r.time("cancelled_at"),
            cancellation_reason=r.integer("cancellation_reason"),
            cancellation_reason_description=r.text("cancellation_reason_description"),
            cancellation_note=r.text("cancellation_note"),
            patient_arrived=r.flag("patient_arrived"),
            did_not_arrive=r.flag("did_not_arrive"),
            archived_at=r.time("archived_at"),
            deleted_at=r.time("deleted_at"),
            created_at=r.required_time("created_at"),
            updated_at=r.required_time("updated_at"),
            booked_online=(bool(r.text("booking_ip_address"))
                           or r.flag("online_booking_policy_accepted") is True),
        )
    )


def parse_group_appointment(raw: object) -> GroupAppointment:
    """Parse one raw group appointment, raising MalformedRecord if it cannot be trusted."""
    r = _Reader("group_appointment", raw)
    return r.build(
        lambda: GroupAppointment(
            id=r.id(),
            practitioner_id=r.link_id("practitioner"),
            appointment_type_id=r.link_id("appointment_type"),
            business_id=r.link_id("business"),
            starts_at=r.required_time("starts_at"),
            ends_at=r.required_time("ends_at"),
            max_attendees=r.integer("max_attendees"),
            archived_at=r.time("archived_at"),
            deleted_at=r.time("deleted_at"),
            created_at=r.required_time("created_at"),
            updated_at=r.required_time("updated_at"),
        )
    )


def parse_attendee(raw: object) -> Attendee:
    """Parse one raw attendee, raising MalformedRecord if it cannot be trusted."""
    r = _Reader("attendee", raw)
    return r.build(
        lambda: Attendee(
            id=r.id(),
            booking_id=r.required_link_id("booking"),
            patient_id=r.required_link_id("patient"),
            arrived=r.flag("arrived"),
            cancelled_at=r.time("cancelled_at"),
            cancellation_reason=r.integer("cancellation_reason"),
            cancellation_reason_description=r.text("cancellation_reason_description"),
            cancellation_note=r.text("cancellation_note"),
            archived_at=r.time("archived_at"),
            deleted_at=r.time("deleted_at"),
            created_at=r.required_time("created_at"),
            updated_at=r.required_time("updated_at"),
        )
    )


def parse_appointment_type(raw: object) -> AppointmentType:
    """Parse one raw appointment type, raising MalformedRecord if it cannot be trusted."""
    r = _Reader("appointment_type", raw)
    return r.build(
        lambda: AppointmentType(
            id=r.id(),
            name=r.text("name") or "",
            category=r.text("category"),
            color=r.text("color"),
            duration_in_minutes=r.integer("duration_in_minutes"),
            show_in_online_bookings=r.flag("show_in_online_bookings"),
            telehealth_enabled=r.flag("telehealth_enabled"),
            archived_at=r.time("archived_at"),
            created_at=r.required_time("created_at"),
            updated_at=r.required_time("updated_at"),
        )
    )


def parse_practitioner(raw: object, *, active: bool | None = None) -> Practitioner:
    """Parse one raw practitioner; `active` is used when the record itself does not say.

    Legacy records have no `active` field, but which list they came from
    (/practitioners or /practitioners/inactive) tells the caller.
    """
    r = _Reader("practitioner", raw)

    def build() -> Practitioner:
        title, first, last = r.text("title"), r.text("first_name"), r.text("last_name")
        label, display = r.text("label"), r.text("display_name")
        own_active = r.flag("active")
        full_name = " ".join(p for p in (title, first, last) if p)
        return Practitioner(
            id=r.id(),
            title=title,
            first_name=first,
            last_name=last,
            display_name=display or label or full_name or "",
            label=label,
            designation=r.text("designation"),
            active=own_active if own_active is not None else active,
            show_in_online_bookings=r.flag("show_in_online_bookings"),
            created_at=r.required_time("created_at"),
            updated_at=r.required_time("updated_at"),
        )

    return r.build(build)


def parse_business(raw: object) -> Business:
    """Parse one raw business, raising MalformedRecord if it cannot be trusted."""
    r = _Reader("business", raw)

    def build() -> Business:
        display = r.text("display_name")
        return Business(
            id=r.id(),
            name=r.text("business_name") or display or r.text("label") or "",
            display_name=display,
            time_zone=r.text("time_zone"),
            time_zone_identifier=r.text("time_zone_identifier"),
            archived_at=r.time("archived_at"),
            created_at=r.required_time("created_at"),
            updated_at=r.required_time("updated_at"),
        )

    return r.build(build)


def parse_records(
    raw_items: Iterable[object], parser: Callable[[object], T]
) -> tuple[list[T], list[MalformedRecord]]:
    """Parse every item of a page, returning the good records and the failures separately."""
    parsed: list[T] = []
    failures: list[MalformedRecord] = []
    for raw in raw_items:
        try:
            parsed.append(parser(raw))
        except MalformedRecord as failure:
            failures.append(failure)
    return parsed, failures


# ----- patient PATCH body -------------------------------------------------------------------


class Write(enum.Enum):
    """How one patient field is written in a PATCH/POST body; which field takes which is the
    caller's table (oncord.sync.patient_fields), so this module keeps no list of its own."""

    TEXT = "text"
    REQUIRED_TEXT = "required_text"  # Cliniko refuses a blank first or last name
    COUNTRY_CODE = "country_code"  # ISO 3166-1 alpha-2, upper case
    DATE = "date"
    PHONE = "phone"  # one entry of patient_phone_numbers, the others kept
    EMAIL_CONSENT = "email_consent"  # accepted_email_marketing true/false
    SMS_CONSENT = "sms_consent"  # only an opt-out can be sent, as unsubscribe_sms_marketing

    def body_key(self, field: str) -> str:
        """The request-body key a change of `field` is sent under."""
        if self is Write.PHONE:
            return "patient_phone_numbers"
        if self is Write.SMS_CONSENT:
            return "unsubscribe_sms_marketing"
        return field


def patient_update_body(
    changes: Mapping[str, object],
    kinds: Mapping[str, Write],
    *,
    current_phone_numbers: Sequence[PhoneNumber] = (),
) -> dict[str, Any]:
    """Map patient changes (Cliniko field name -> value) to the body of PATCH /patients/{id}.

    `kinds` says how each field is written:
    - PHONE replaces the number the local phone was read from (the first Mobile, else the
      first number) with a Mobile entry and keeps the patient's other numbers, because
      Cliniko takes `patient_phone_numbers` as the whole list. Pass `current_phone_numbers`
      (from the freshly fetched Patient) or the other numbers will be dropped.
    - SMS_CONSENT False becomes `unsubscribe_sms_marketing: true`. True is NOT
      sent: Cliniko's API can unsubscribe but has no documented way to re-subscribe (what
      `unsubscribe_sms_marketing: false` does is unknown), so opting back in must be done by
      staff in Cliniko. `patient_changes_not_sent()` lists such changes for the caller.
    - DATE is sent as YYYY-MM-DD; the deprecated `gender` is rejected.
    The body may be empty (e.g. only an SMS opt-in changed); skip the PATCH then.
    """
    unknown = set(changes) - set(kinds)
    if "gender" in unknown:
        raise ValueError("'gender' is deprecated by Cliniko; change 'sex' or 'gender_identity'")
    if unknown:
        raise ValueError(f"fields Oncord does not push to Cliniko: {sorted(unknown)}")

    body: dict[str, Any] = {}
    for field, value in changes.items():
        kind = kinds[field]
        key = kind.body_key(field)
        if kind in (Write.TEXT, Write.REQUIRED_TEXT, Write.COUNTRY_CODE):
            body[key] = _text_for_body(field, value, kind)
        elif kind is Write.PHONE:
            body[key] = _phone_numbers_for_body(value, current_phone_numbers)
        elif kind is Write.DATE:
            body[key] = _date_for_body(field, value)
        elif kind is Write.EMAIL_CONSENT:
            body[key] = _bool_for_body(field, value)
        elif not _bool_for_body(field, value):
            body[key] = True
    return body


def patient_changes_not_sent(changes: Mapping[str, object], kinds: Mapping[str, Write]) -> list[str]:
    """Return the changed fields that patient_update_body() cannot push to Cliniko."""
    return [f for f, value in changes.items() if kinds.get(f) is Write.SMS_CONSENT and value is True]


def _text_for_body(field: str, value: object, kind: Write) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{field} must be a string or None")
    if kind is Write.REQUIRED_TEXT and not (value or "").strip():
        raise ValueError(f"Cliniko requires {field}; it cannot be cleared")
    if kind is Write.COUNTRY_CODE and value:
        return value.strip().upper()
    # Cliniko stores "" and null alike for optional text; null states "cleared" plainly.
    return value if value else None


def _phone_numbers_for_body(
    value: object, current: Sequence[PhoneNumber]
) -> list[dict[str, str]]:
    if value is not None and not isinstance(value, str):
        raise TypeError("phone must be a string or None")
    replaced = _preferred_phone_entry(current)
    kept = [
        {"number": p.number, "phone_type": p.phone_type or "Other"}
        for p in current
        if p is not replaced
    ]
    if value and value.strip():
        return [{"number": value.strip(), "phone_type": "Mobile"}, *kept]
    return kept


def _date_for_body(field: str, value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        raise TypeError(f"{field} must be a date, not a datetime")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and _DATE.fullmatch(value):
        return date.fromisoformat(value).isoformat()
    raise TypeError(f"{field} must be a date, a YYYY-MM-DD string or None")


def _bool_for_body(field: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{field} must be True or False")
    return value


# ----- helpers ------------------------------------------------------------------------------


def _preferred_phone_entry(numbers: Sequence[PhoneNumber]) -> PhoneNumber | None:
    for number in numbers:
        if (number.phone_type or "").lower() == "mobile":
            return number
    return numbers[0] if numbers else None


def _preferred_phone(numbers: Sequence[PhoneNumber]) -> str | None:
    entry = _preferred_phone_entry(numbers)
    return entry.number if entry else None


class _Reader:
    """Typed field access over one raw record, turning any surprise into MalformedRecord."""

    def __init__(self, resource: str, raw: object) -> None:
        self.resource = resource
        if not isinstance(raw, dict):
            raise MalformedRecord(resource, None, f"record is {type(raw).__name__}, not an object")
        self.raw: dict[str, Any] = raw
        self.record_id = _best_effort_id(raw)

    def build(self, make: Callable[[], T]) -> T:
        try:
            return make()
        except MalformedRecord:
            raise
        except (TypeError, ValueError, AttributeError) as exc:
            # A guard for anything the typed accessors did not foresee; the reason is the
            # exception type only, since its text could quote patient data.
            raise MalformedRecord(
                self.resource, self.record_id, f"unexpected {type(exc).__name__}"
            ) from None

    def fail(self, reason: str) -> MalformedRecord:
        return MalformedRecord(self.resource, self.record_id, reason)

    def id(self) -> str:
        value = self.raw.get("id")
        parsed = _id_value(value)
        if parsed is None:
            raise self.fail("id is missing or not a string of digits")
        return parsed

    def text(self, field: str) -> str | None:
        value = self.raw.get(field)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self.fail(f"{field} is {type(value).__name__}, expected text")
        return value

    def flag(self, field: str) -> bool | None:
        value = self.raw.get(field)
        if value is None or isinstance(value, bool):
            return value
        raise self.fail(f"{field} is {type(value).__name__}, expected true/false/null")

    def integer(self, field: str) -> int | None:
        value = self.raw.get(field)
        if value is None or value == "":
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise self.fail(f"{field} is {type(value).__name__}, expected a whole number")

    def time(self, field: str) -> datetime | None:
        value = self.raw.get(field)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self.fail(f"{field} is {type(value).__name__}, expected a timestamp")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise self.fail(f"{field} is not an ISO-8601 timestamp") from None
        if parsed.tzinfo is None:
            # Cliniko always sends UTC with "Z"; a time without a zone cannot be placed.
            raise self.fail(f"{field} has no time zone")
        return parsed.astimezone(UTC)

    def required_time(self, field: str) -> datetime:
        value = self.time(field)
        if value is None:
            raise self.fail(f"{field} is missing")
        return value

    def date(self, field: str) -> date | None:
        value = self.raw.get(field)
        if value is None or value == "":
            return None
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            raise self.fail(f"{field} is not a YYYY-MM-DD date")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise self.fail(f"{field} is not a real calendar date") from None

    def link_id(self, field: str) -> str | None:
        value = self.raw.get(field)
        if value is None:
            return None
        url = _link_self(value)
        if url is None:
            raise self.fail(f"{field} is not a link object")
        found = _last_segment_id(url)
        if found is None:
            raise self.fail(f"{field} link does not end in an id")
        return found

    def required_link_id(self, field: str) -> str:
        value = self.link_id(field)
        if value is None:
            raise self.fail(f"{field} link is missing")
        return value

    def phone_numbers(self, field: str) -> tuple[PhoneNumber, ...]:
        value = self.raw.get(field)
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.fail(f"{field} is {type(value).__name__}, expected a list")
        numbers = []
        for entry in value:
            if not isinstance(entry, dict):
                raise self.fail(f"{field} has an entry that is not an object")
            number = entry.get("number")
            if number is None or number == "":
                continue  # an empty slot carries nothing to sync
            if not isinstance(number, str):
                raise self.fail(f"{field} has a number that is not text")
            phone_type = entry.get("phone_type")
            normalized = entry.get("normalized_number")
            numbers.append(
                PhoneNumber(
                    number=number,
                    phone_type=phone_type if isinstance(phone_type, str) and phone_type else None,
                    normalized_number=(
                        normalized if isinstance(normalized, str) and normalized else None
                    ),
                )
            )
        return tuple(numbers)


def _id_value(value: object) -> str | None:
    # Legacy examples use JSON integers; the live API sends 64-bit ids as strings. Both end
    # up as strings; floats are refused because they would already have lost digits.
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return value
    return None


def _link_self(value: object) -> str | None:
    if not isinstance(value, dict):
        return None
    links = value.get("links")
    url = links.get("self") if isinstance(links, dict) else None
    return url if isinstance(url, str) and url else None


def _last_segment_id(url: str) -> str | None:
    segment = urlsplit(url).path.rstrip("/").rpartition("/")[2]
    return segment if _DIGITS.fullmatch(segment) else None


def _best_effort_id(raw: dict[str, Any]) -> str | None:
    """Return an id to name a bad record by, from `id` or `links.self`; never raises."""
    found = _id_value(raw.get("id"))
    if found is not None:
        return found
    url = _link_self(raw)
    return _last_segment_id(url) if url else None
