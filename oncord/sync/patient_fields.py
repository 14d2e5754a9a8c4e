"""The one table of patient fields: each contact column, where a pull reads it, how a push writes
it, whether staff may edit it, and who owns its changes.

The edit form, the edit logic, the pull, the push, the outbox and the payload builder are all
derived from PATIENT_FIELDS, so a field cannot be editable here and forgotten there (that is how a
staff edit of Country used to be reverted by the next pull).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email

from oncord.cliniko.payloads import Write
from oncord.contacts.countries import code_for_country, country_name
from oncord.contacts.phones import phone_columns, phone_region, same_phone
from oncord.models import MarketingStatus


class Value(enum.Enum):
    """What kind of value a field holds: how it is normalised, compared and entered."""

    NAME = "name"  # text that is never null ("" when blank)
    TEXT = "text"
    LONG_TEXT = "long_text"  # an address line: the form gives it the full width
    EMAIL = "email"
    PHONE = "phone"
    DATE = "date"
    COUNTRY = "country"  # an ISO 3166-1 alpha-2 code
    STATUS = "status"  # a MarketingStatus


class Owner(enum.Enum):
    """Who applies a change of the field: the field edit logic, or the consent owner (which
    writes the consent history and feed as well)."""

    FIELDS = "fields"
    CONSENT = "consent"


@dataclass(frozen=True)
class PatientField:
    """One row of the table."""

    column: str
    label: str
    value: Value
    # The attribute of oncord.cliniko.payloads.Patient a pull reads (Cliniko's own field name,
    # except `phone`, which the parser picks from patient_phone_numbers); None: never pulled.
    cliniko: str | None
    # How a local edit is written back to Cliniko; None: never pushed.
    write: Write | None
    editable: bool
    # Kept in Oncord only, on purpose (nothing to push it to).
    local_only: bool = False
    owner: Owner = Owner.FIELDS
    max_length: int | None = 255
    # Columns computed from this one: stored, protected from a pull and compared with it.
    derived: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        """This field's column and the columns derived from it."""
        return (self.column, *self.derived)


_TEXT, _REQUIRED = Write.TEXT, Write.REQUIRED_TEXT

PATIENT_FIELDS: tuple[PatientField, ...] = (
    PatientField("first_name", "First name", Value.NAME, "first_name", _REQUIRED, True),
    PatientField("last_name", "Last name", Value.NAME, "last_name", _REQUIRED, True),
    PatientField("email", "E-mail", Value.EMAIL, "email", _TEXT, True),
    PatientField("phone", "Mobile phone", Value.PHONE, "phone", Write.PHONE, True, max_length=64,
                 derived=("phone_e164", "phone_is_mobile")),
    PatientField("date_of_birth", "Date of birth", Value.DATE, "date_of_birth", Write.DATE, True,
                 max_length=None),
    PatientField("sex", "Sex", Value.TEXT, "sex", _TEXT, True),
    PatientField("gender_identity", "Gender identity", Value.TEXT, "gender_identity", _TEXT, True),
    PatientField("address_1", "Address", Value.LONG_TEXT, "address_1", _TEXT, True),
    PatientField("address_2", "Address line 2", Value.LONG_TEXT, "address_2", _TEXT, True),
    PatientField("address_3", "Address line 3", Value.LONG_TEXT, "address_3", _TEXT, True),
    PatientField("city", "City / suburb", Value.TEXT, "city", _TEXT, True),
    PatientField("state", "State", Value.TEXT, "state", _TEXT, True),
    PatientField("post_code", "Post code", Value.TEXT, "post_code", _TEXT, True, max_length=32),
    # Cliniko deprecated the free-text `country` for `country_code`: the code is edited, stored
    # and pushed; `country` holds its name (or Cliniko's legacy text for a code it cannot name).
    PatientField("country_code", "Country", Value.COUNTRY, "country_code", Write.COUNTRY_CODE, True,
                 max_length=2, derived=("country",)),
    PatientField("email_marketing_status", "E-mail marketing", Value.STATUS, "accepted_email_marketing",
                 Write.EMAIL_CONSENT, True, owner=Owner.CONSENT, max_length=None),
    # An SMS opt-in cannot be sent (Cliniko's API can only unsubscribe); it stays local.
    PatientField("sms_marketing_status", "SMS marketing", Value.STATUS, "accepted_sms_marketing",
                 Write.SMS_CONSENT, True, owner=Owner.CONSENT, max_length=None),
)

BY_COLUMN: dict[str, PatientField] = {f.column: f for f in PATIENT_FIELDS}
EDITABLE: tuple[PatientField, ...] = tuple(f for f in PATIENT_FIELDS if f.editable)
# Edited through the field edit logic; the consent fields go through the consent owner.
EDITED_HERE: tuple[PatientField, ...] = tuple(f for f in EDITABLE if f.owner is Owner.FIELDS)
MARKETING_FIELDS: tuple[str, ...] = tuple(f.column for f in PATIENT_FIELDS if f.owner is Owner.CONSENT)
PUSHABLE_FIELDS: frozenset[str] = frozenset(f.column for f in PATIENT_FIELDS if f.write is not None)
# Every contact column the table describes, derived ones included (export, tests).
SYNCED_COLUMNS: tuple[str, ...] = tuple(
    c for f in PATIENT_FIELDS if f.owner is Owner.FIELDS for c in f.columns
)
# Cliniko field name -> how it is written: what patient_update_body() needs.
CLINIKO_WRITES: dict[str, Write] = {f.cliniko: f.write for f in PATIENT_FIELDS if f.cliniko and f.write}
# A 422 names body keys; these are the contact columns behind them.
COLUMN_OF_BODY_KEY: dict[str, str] = {
    f.write.body_key(f.cliniko): f.column for f in PATIENT_FIELDS if f.cliniko and f.write
}


# ----- values: normalised as stored, compared after that same normalisation --------------------


def normalise(field: PatientField, value: Any) -> Any:
    """The value as it is stored: trimmed text, blank as None (as "" for a name), upper-case
    country code, e-mail with its domain normalised; a phone keeps the form it was typed in."""
    if field.value in (Value.DATE, Value.STATUS):
        return value
    text = value.strip() if isinstance(value, str) else value
    if field.value is Value.NAME:
        return text or ""
    if not text:
        return None
    if field.value is Value.COUNTRY:
        return text.upper()
    if field.value is Value.EMAIL:
        try:
            return validate_email(text, check_deliverability=False).normalized
        except EmailNotValidError:
            return text  # the form refuses it; a value from Cliniko is kept as it came
    return text


def is_unchanged(field: PatientField, old: Any, new: Any, *, region: str) -> bool:
    """Whether `new` is what is stored already, after normalisation (a phone: the same E.164)."""
    old, new = normalise(field, old), normalise(field, new)
    if field.value is Value.PHONE:
        return same_phone(old, new, region)
    return bool(old == new)


def derived_values(field: PatientField, value: Any, *, region: str, legacy: Any = None) -> dict[str, Any]:
    """The derived columns of a field for its (normalised) value."""
    if field.value is Value.PHONE:
        return phone_columns(value, region)
    if field.value is Value.COUNTRY:
        # A code Cliniko sent that pycountry cannot name keeps Cliniko's own text.
        return {"country": country_name(value) or legacy}
    return {}


# ----- the pull --------------------------------------------------------------------------------


def patient_columns(patient: Any, *, default_region: str) -> dict[str, Any]:
    """The contact column values a Cliniko patient gives (consent is the consent owner's)."""
    values: dict[str, Any] = {}
    for field in PATIENT_FIELDS:
        if field.cliniko is None or field.owner is not Owner.FIELDS:
            continue
        # Stored as Cliniko sent it (a phone keeps Cliniko's text); only a blank name becomes "".
        value = getattr(patient, field.cliniko)
        values[field.column] = value or "" if field.value is Value.NAME else value
    if not values["country_code"]:
        # Older records only have the deprecated free text.
        values["country_code"] = code_for_country(patient.country)
    region = phone_region(values["country_code"], default_region)
    for field in PATIENT_FIELDS:
        if field.derived and field.column in values:
            values.update(derived_values(field, values[field.column], region=region, legacy=patient.country))
    values["cliniko_reminder_type"] = patient.reminder_type
    values["archived_at"] = patient.archived_at
    values["cliniko_updated_at"] = patient.updated_at
    return values


# ----- the push --------------------------------------------------------------------------------


def cliniko_changes(contact: Any, columns: set[str]) -> dict[str, object]:
    """The contact's current values of these columns, keyed by Cliniko field name for
    patient_update_body(..., CLINIKO_WRITES)."""
    changes: dict[str, object] = {}
    for column in columns:
        field = BY_COLUMN[column]
        if field.cliniko is None or field.write is None:
            continue
        value = getattr(contact, column)
        if field.value is Value.STATUS:
            value = value == MarketingStatus.SUBSCRIBED
        changes[field.cliniko] = value
    return changes


def columns_refused(errors: Mapping[str, object], columns: set[str]) -> set[str]:
    """The contact columns behind the body keys a 422 names (e.g. `patient_phone_numbers[0]`)."""
    names = {key.split(".")[0].split("[")[0] for key in errors}
    # A name that is no body key of ours (Cliniko names only what was sent) refuses nothing.
    return {COLUMN_OF_BODY_KEY[name] for name in names if name in COLUMN_OF_BODY_KEY} & columns


# ----- consent ---------------------------------------------------------------------------------


def status_from_cliniko(accepted: bool | None) -> MarketingStatus:
    """Cliniko's acceptance flag: true means Subscribed, anything else Pending."""
    return MarketingStatus.SUBSCRIBED if accepted else MarketingStatus.PENDING
