"""Why a message was skipped or is waiting, as codes stored on the send and words staff read."""

from __future__ import annotations

import enum


class Reason(enum.StrEnum):
    """A skip (final) or a wait (the send stays pending) and its cause."""

    # Skips: the message will never be sent.
    NO_CONSENT = "no_consent"
    UNSUBSCRIBED = "unsubscribed"
    NO_EMAIL = "no_email"
    NO_MOBILE = "no_mobile"
    NO_CONTACT = "no_contact"
    CONTACT_ARCHIVED = "contact_archived"
    CANCELLED_BEFORE_DUE = "cancelled_before_due"
    CANCELLED = "cancelled"
    ALREADY_STARTED = "already_started"
    BOOKED_LATE = "booked_late"
    DELETED = "deleted"
    NO_LONGER_DID_NOT_ARRIVE = "no_longer_did_not_arrive"
    DID_NOT_ARRIVE = "did_not_arrive"
    NOT_ARRIVED = "not_arrived"
    NO_LONGER_MATCHES = "no_longer_matches"
    AUTOMATION_OFF = "automation_off"
    CHANNEL_OFF = "channel_off"
    QUIET_HOURS_TOO_LONG = "quiet_hours_too_long"
    TOO_LATE = "too_late"
    # Waits: the send is pending again with a later due time.
    QUIET_HOURS = "quiet_hours"
    RESCHEDULED = "rescheduled"
    RETRY = "retry"


WAIT_REASONS = frozenset({Reason.QUIET_HOURS, Reason.RESCHEDULED, Reason.RETRY})

REASON_TEXT: dict[str, str] = {
    Reason.NO_CONSENT: "not subscribed to marketing on this channel",
    Reason.UNSUBSCRIBED: "unsubscribed from this channel",
    Reason.NO_EMAIL: "no e-mail address",
    Reason.NO_MOBILE: "no valid mobile number",
    Reason.NO_CONTACT: "the appointment has no linked contact",
    Reason.CONTACT_ARCHIVED: "the patient is archived in Cliniko",
    Reason.CANCELLED_BEFORE_DUE: "cancelled before the reminder was due",
    Reason.CANCELLED: "the appointment was cancelled",
    Reason.ALREADY_STARTED: "the appointment had already started when the message could be sent",
    Reason.BOOKED_LATE: "booked after the reminder time (late reminders are off for this automation)",
    Reason.DELETED: "the appointment was deleted in Cliniko",
    Reason.NO_LONGER_DID_NOT_ARRIVE: "the appointment is no longer marked did-not-arrive",
    Reason.DID_NOT_ARRIVE: "the appointment was marked did-not-arrive",
    Reason.NOT_ARRIVED: "the appointment was not marked arrived",
    Reason.NO_LONGER_MATCHES: "the appointment type or practitioner no longer matches the automation",
    Reason.AUTOMATION_OFF: "the automation was turned off before sending",
    Reason.CHANNEL_OFF: "the automation no longer sends on this channel",
    Reason.QUIET_HOURS_TOO_LONG: "quiet hours last until after the appointment starts",
    Reason.TOO_LATE: "more than two days late (the worker was not running); not sent so late",
    Reason.QUIET_HOURS: "waiting for quiet hours to end",
    Reason.RESCHEDULED: "the appointment moved; waiting for the new reminder time",
    Reason.RETRY: "the provider refused it for now; trying again",
}


def reason_text(code: str | None) -> str:
    """The words for a reason code (the code itself when unknown)."""
    if not code:
        return ""
    return REASON_TEXT.get(code, code.replace("_", " "))


def outcome_text(kind: str, details: dict[str, object]) -> str:
    """A skipped or failed automation message as a feed sentence."""
    channel = "E-mail" if details.get("channel") == "email" else "SMS"
    automation = details.get("automation") or "automation"
    if kind == "message_skipped":
        return f"{channel} not sent ({automation}): {reason_text(str(details.get('reason') or ''))}"
    return f"{channel} failed ({automation}): {details.get('error') or 'the provider gave no reason'}"
