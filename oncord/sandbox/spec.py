"""Facts from Cliniko's OpenAPI file (Aug 2025) that the sandbox enforces: filters and enums."""

from __future__ import annotations

# q[] fields each served operation accepts, with their filter type (operations[*].q_filters).
Q_FILTERS: dict[str, dict[str, str]] = {
    "GET /patients": {
        "accepted_privacy_policy": "boolean", "archived_at": "date-time",
        "created_at": "date-time", "date_of_birth": "date", "email": "string",
        "first_name": "string", "id": "int64", "last_name": "string",
        "old_reference_id": "string", "preferred_first_name": "string",
        "updated_at": "date-time",
    },
    "GET /patients/{id}": {"archived_at": "date-time"},
    "GET /individual_appointments": {
        "appointment_type_id": "int64", "archived_at": "date-time", "business_id": "int64",
        "cancelled_at": "date-time", "created_at": "date-time", "deleted_at": "date-time",
        "did_not_arrive": "boolean", "ends_at": "date-time", "id": "int64",
        "patient_id": "int64", "practitioner_id": "int64", "repeated_from_id": "int64",
        "starts_at": "date-time", "updated_at": "date-time",
    },
    "GET /individual_appointments/{id}": {
        "archived_at": "date-time", "cancelled_at": "date-time", "deleted_at": "date-time",
    },
    "GET /group_appointments": {
        "appointment_type_id": "int64", "archived_at": "date-time", "business_id": "int64",
        "created_at": "date-time", "deleted_at": "date-time", "ends_at": "date-time",
        "id": "int64", "patient_ids": "array", "practitioner_id": "int64",
        "repeated_from_id": "int64", "starts_at": "date-time", "updated_at": "date-time",
    },
    "GET /group_appointments/{id}": {"archived_at": "date-time", "deleted_at": "date-time"},
    "GET /attendees": {
        "appointment_id": "int64", "archived_at": "date-time", "booking_id": "int64",
        "cancelled_at": "date-time", "created_at": "date-time", "deleted_at": "date-time",
        "id": "int64", "patient_case_id": "int64", "patient_id": "int64",
        "updated_at": "date-time",
    },
    "GET /attendees/{id}": {
        "archived_at": "date-time", "cancelled_at": "date-time", "deleted_at": "date-time",
    },
    "GET /appointment_types": {
        "appointment_confirmation_template_ids": "array",
        "appointment_follow_up_template_ids": "array",
        "appointment_reminder_template_ids": "array", "archived_at": "date-time",
        "category": "string", "created_at": "date-time", "id": "int64",
        "online_payments_mode": "string", "show_in_online_bookings": "boolean",
        "updated_at": "date-time",
    },
    "GET /appointment_types/{id}": {"archived_at": "date-time"},
    "GET /practitioners": {
        "active": "boolean", "created_at": "date-time", "id": "int64",
        "show_in_online_bookings": "boolean", "updated_at": "date-time", "user_id": "int64",
    },
    "GET /practitioners/{id}": {},
    "GET /businesses": {
        "appointment_type_ids": "array", "archived_at": "date-time", "created_at": "date-time",
        "deleted_at": "date-time", "id": "int64", "show_in_online_bookings": "boolean",
        "updated_at": "date-time",
    },
    "GET /businesses/{id}": {"archived_at": "date-time", "deleted_at": "date-time"},
}
Q_FILTERS["GET /practitioners/inactive"] = Q_FILTERS["GET /practitioners"]
# Deprecated in the spec but still served: the same filters as the whole listing.
Q_FILTERS["GET /group_appointments/{id}/attendees"] = Q_FILTERS["GET /attendees"]

PHONE_TYPES: tuple[str, ...] = ("Fax", "Home", "Mobile", "Other", "Work")
REMINDER_TYPES: tuple[str, ...] = ("None", "SMS", "Email", "SMS & Email")

# Cancellation reason codes and the descriptions the spec's enum spells them with.
CANCELLATION_REASONS: dict[int, str] = {
    10: "Feeling Better", 20: "Condition Worse", 30: "Sick", 31: "COVID-19 related",
    40: "Away", 50: "Other", 60: "Work",
}

# The spec's e-mail pattern, applied case-insensitively (the file's upper-case-only form is a flaw).
EMAIL_PATTERN = r"^[A-Z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Z0-9.-]+\.[A-Z]{2,63}$"
DVA_PATTERN = r"^[NVQSWT]([A-Z ][0-9]{1,6}|[A-Z]{2}[0-9]{1,5}|[A-Z]{3}[0-9]{1,4})[A-Z]?$"

INVOICE_OPEN, INVOICE_PAID = 10, 20
TREATMENT_NOTE_DRAFT, TREATMENT_NOTE_FINAL = 10, 90
