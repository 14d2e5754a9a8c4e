"""Which contact fields mirror which Cliniko patient fields, and how consent maps."""

from __future__ import annotations

from typing import Any

from oncord.models import MarketingStatus

# Contact columns that a pull copies from the Cliniko patient (same names on both sides).
SYNCED_FIELDS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "address_1",
    "address_2",
    "address_3",
    "city",
    "state",
    "post_code",
    "country",
    "country_code",
    "date_of_birth",
    "sex",
    "gender_identity",
)


MARKETING_FIELDS: tuple[str, ...] = ("email_marketing_status", "sms_marketing_status")

# What a local edit can send to Cliniko: Cliniko's `country` is deprecated and follows country_code.
PUSHABLE_FIELDS: frozenset[str] = frozenset(SYNCED_FIELDS) - {"country"} | frozenset(MARKETING_FIELDS)


def patient_columns(patient: Any) -> dict[str, Any]:
    """The contact column values a Cliniko patient gives."""
    values = {name: getattr(patient, name) for name in SYNCED_FIELDS}
    values["first_name"] = values["first_name"] or ""
    values["last_name"] = values["last_name"] or ""
    values["cliniko_reminder_type"] = patient.reminder_type
    values["archived_at"] = patient.archived_at
    values["cliniko_updated_at"] = patient.updated_at
    return values


def status_from_cliniko(accepted: bool | None) -> MarketingStatus:
    """Cliniko's acceptance flag: true means Subscribed, anything else Pending."""
    return MarketingStatus.SUBSCRIBED if accepted else MarketingStatus.PENDING
