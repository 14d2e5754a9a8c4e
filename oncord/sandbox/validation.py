"""Checks a Patient request body the way Cliniko does, turning it into field changes or errors."""

from __future__ import annotations

import re
import zoneinfo
from functools import cache
from typing import Any

from oncord.sandbox.ids import parse_id
from oncord.sandbox.patients import normalize_phone
from oncord.sandbox.spec import DVA_PATTERN, EMAIL_PATTERN, PHONE_TYPES, REMINDER_TYPES
from oncord.sandbox.timeutil import date_to_days

BLANK = "can\u2019t be blank"  # Cliniko's own message uses a typographic apostrophe
_EMAIL = re.compile(EMAIL_PATTERN, re.IGNORECASE)
_DVA = re.compile(DVA_PATTERN)
_COUNTRY_CODE = re.compile(r"[A-Za-z]{2}")

# Writable string fields and their maximum length (None: no documented limit).
_STRINGS: dict[str, int | None] = {
    "title": 255, "first_name": 255, "last_name": 255, "preferred_first_name": 255,
    "sex": None, "gender_identity": None, "address_1": 255, "address_2": 255,
    "address_3": 255, "city": 255, "state": None, "post_code": None, "country": None,
    "notes": None, "appointment_notes": None, "occupation": 255, "emergency_contact": 255,
    "referral_source": 255, "old_reference_id": 255, "medicare": 255,
    "medicare_reference_number": 255, "invoice_default_to": None,
    "invoice_extra_information": None,
}
_NULLABLE_BOOLEANS = (
    "accepted_privacy_policy", "accepted_email_marketing", "receives_confirmation_emails",
    "receives_cancellation_emails",
)
_PRONOUN_KEYS = (
    "accusative", "nominative", "predicative_possessive", "pronominal_possessive", "reflexive",
)
_REQUIRED = ("first_name", "last_name")


class ValidationFailed(Exception):
    """A write Cliniko would refuse with 422; `errors` maps each field to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_patient(body: dict[str, Any], *, creating: bool) -> tuple[dict[str, Any], dict[str, str]]:
    """Return (changes to store, errors by field) for a POST/PATCH body; unknown keys are ignored."""
    changes: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, limit in _STRINGS.items():
        if name in body:
            _string(name, body[name], limit, changes, errors)
    for name in _REQUIRED:
        if (creating and name not in body) or (name in changes and not changes[name].strip()):
            errors.setdefault(name, BLANK)
    for name in _NULLABLE_BOOLEANS:
        if name in body:
            value = body[name]
            if value is None or isinstance(value, bool):
                changes[name] = value
            else:
                errors[name] = "must be true or false"
    if "unsubscribe_sms_marketing" in body:
        value = body["unsubscribe_sms_marketing"]
        if not isinstance(value, bool):
            errors["unsubscribe_sms_marketing"] = "must be true or false"
        elif value:
            # accepted_sms_marketing is read-only: unsubscribing is the only way to change it.
            changes["accepted_sms_marketing"] = False
    for name in ("email", "invoice_email"):
        if name in body:
            _email(name, body[name], changes, errors)
    simple_checks = (
        ("date_of_birth", _date_of_birth), ("reminder_type", _reminder_type),
        ("time_zone", _time_zone), ("country_code", _country_code),
        ("dva_card_number", _dva), ("pronouns", _pronouns),
        ("custom_fields", _custom_fields), ("patient_phone_numbers", _phone_numbers),
        ("concession_type_id", _reference), ("referring_doctor_id", _reference),
    )
    for name, check in simple_checks:
        if name in body:
            value, error = check(body[name])
            if error:
                errors[name] = error
            else:
                changes[name] = value
    return changes, errors


def _string(name: str, value: Any, limit: int | None, changes: dict, errors: dict) -> None:
    if value is None:
        if name in _REQUIRED:
            errors[name] = BLANK
        else:
            changes[name] = None
    elif not isinstance(value, str):
        errors[name] = "must be a string"
    elif limit is not None and len(value) > limit:
        errors[name] = f"is too long (maximum is {limit} characters)"
    else:
        changes[name] = value


def _email(name: str, value: Any, changes: dict, errors: dict) -> None:
    if value is None or value == "":
        changes[name] = None
    elif not isinstance(value, str):
        errors[name] = "must be a string"
    elif len(value) > 255:
        errors[name] = "is too long (maximum is 255 characters)"
    elif not _EMAIL.match(value):
        errors[name] = "is invalid"
    else:
        changes[name] = value


def _date_of_birth(value: Any) -> tuple[Any, str | None]:
    if value is None or value == "":
        return None, None
    if not isinstance(value, str) or date_to_days(value) is None:
        return None, "is not a valid date"
    return value, None


def _reminder_type(value: Any) -> tuple[Any, str | None]:
    if value is None or value in REMINDER_TYPES:
        return value, None
    return None, "is not included in the list"


def _time_zone(value: Any) -> tuple[Any, str | None]:
    if value is None or value == "":
        return None, None
    if isinstance(value, str) and value in _time_zones():
        return value, None
    return None, "is not a valid time zone"


def _country_code(value: Any) -> tuple[Any, str | None]:
    if value is None or value == "":
        return None, None
    if isinstance(value, str) and _COUNTRY_CODE.fullmatch(value):
        return value.upper(), None
    return None, "is not a valid country code"


def _dva(value: Any) -> tuple[Any, str | None]:
    if value is None or value == "":
        return None, None
    if isinstance(value, str) and _DVA.match(value):
        return value, None
    return None, "is invalid"


def _pronouns(value: Any) -> tuple[Any, str | None]:
    if value is None:
        return None, None
    if not isinstance(value, dict):
        return None, "must be an object"
    for key in _PRONOUN_KEYS:
        item = value.get(key)
        if not isinstance(item, str) or not item.strip():
            return None, f"{key} {BLANK}"
        if len(item) > 50:
            return None, f"{key} is too long (maximum is 50 characters)"
    return {key: value[key] for key in _PRONOUN_KEYS}, None


def _custom_fields(value: Any) -> tuple[Any, str | None]:
    if value is None:
        return None, None
    sections = value.get("sections") if isinstance(value, dict) else None
    if not isinstance(sections, list):
        return None, "must be an object with a sections array"
    for section in sections:
        if not isinstance(section, dict) or not isinstance(section.get("token"), str):
            return None, "sections need a token"
        fields = section.get("fields")
        if not isinstance(fields, list) or not all(
            isinstance(f, dict) and isinstance(f.get("token"), str) for f in fields
        ):
            return None, "section fields need a token"
    return value, None


def _phone_numbers(value: Any) -> tuple[Any, str | None]:
    if not isinstance(value, list):
        return None, "must be an array"
    phones = []
    for item in value:
        if not isinstance(item, dict):
            return None, "must be an array of objects"
        number, phone_type = item.get("number"), item.get("phone_type")
        if not isinstance(number, str) or not number.strip():
            return None, f"number {BLANK}"
        if len(number) > 255:
            return None, "number is too long (maximum is 255 characters)"
        if not normalize_phone(number):
            return None, "number is invalid"
        if phone_type not in PHONE_TYPES:
            return None, "phone_type is not included in the list"
        phones.append({
            "number": number, "phone_type": phone_type,
            "normalized_number": normalize_phone(number),
        })
    return phones, None


def _reference(value: Any) -> tuple[Any, str | None]:
    if value is None:
        return None, None
    parsed = parse_id(value)
    if parsed is None:
        return None, "is invalid"
    return parsed, None
