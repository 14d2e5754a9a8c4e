"""Who may receive a message on a channel: the one rule, and the one vocabulary of reasons.

Automations, campaigns, the audience preview, the send log, the campaign report and the
contact's feed all use these codes and words. The rule is written twice on purpose, once in
Python (checked again just before sending) and once as SQL (the audience count and the campaign's
recipient rows), side by side here and in the same order, so they cannot drift apart:

  1. unsubscribed on the channel -> never;
  2. archived in Cliniko -> never;
  3. not Subscribed -> only a service message that allows Pending (never marketing);
  4. no address on the channel (a blank e-mail, no phone) -> never;
  5. for SMS, the phone must be a mobile number (the `phone_is_mobile` flag stored beside it,
     derived by oncord.contacts.phones whenever the phone is saved or pulled).

An address that is present but not one valid mailbox is not a skip: the message fails with
"invalid e-mail address" when it is built (oncord.messaging.email.valid_mailbox), so staff see it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func

from oncord.models import Contact, MarketingStatus


class Reason(enum.StrEnum):
    """Why a message was skipped, is waiting, or failed; stored on sends and recipient rows."""

    # Who: the eligibility rule below.
    UNSUBSCRIBED = "unsubscribed"
    CONTACT_ARCHIVED = "contact_archived"
    NO_CONSENT = "no_consent"
    NO_EMAIL = "no_email"
    NO_MOBILE = "no_mobile"
    NO_CONTACT = "no_contact"
    FREQUENCY_CAP = "frequency_cap"
    CLINIKO_REMINDS = "cliniko_reminds"
    # When (automations): the appointment and the automation as they are now.
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
    # Waits: the message stays pending with a later due time.
    QUIET_HOURS = "quiet_hours"
    RESCHEDULED = "rescheduled"
    RETRY = "retry"
    # Failures: the message was not (or may not have been) delivered; the error has the details.
    TEMPLATE = "template"
    INVALID_ADDRESS = "invalid_address"
    REFUSED = "refused"
    GAVE_UP = "gave_up"
    OUTCOME_UNKNOWN = "outcome_unknown"
    UNEXPECTED = "unexpected"


WAIT_REASONS = frozenset({Reason.QUIET_HOURS, Reason.RESCHEDULED, Reason.RETRY})

REASON_TEXT: dict[str, str] = {
    Reason.UNSUBSCRIBED: "unsubscribed from this channel",
    Reason.CONTACT_ARCHIVED: "the patient is archived in Cliniko",
    Reason.NO_CONSENT: "not subscribed to marketing on this channel (consent pending)",
    Reason.NO_EMAIL: "no e-mail address",
    Reason.NO_MOBILE: "no mobile number that can receive SMS (none, or a landline)",
    Reason.NO_CONTACT: "the appointment has no linked contact",
    Reason.FREQUENCY_CAP: "frequency cap",
    Reason.CLINIKO_REMINDS: "Cliniko sends this patient its own reminders (their reminder type in Cliniko)",
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
    Reason.TEMPLATE: "the message could not be filled in",
    Reason.INVALID_ADDRESS: "invalid e-mail address",
    Reason.REFUSED: "the provider refused the message",
    Reason.GAVE_UP: "the provider kept failing; gave up",
    Reason.OUTCOME_UNKNOWN: (
        "the worker stopped while handing it over; it may or may not have been delivered, so it was not "
        "sent again"
    ),
    Reason.UNEXPECTED: "something unexpected went wrong preparing this message",
}
# Words that differ by channel.
_CHANNEL_TEXT: dict[tuple[str, str], str] = {
    (Reason.UNSUBSCRIBED, "email"): "unsubscribed from e-mails",
    (Reason.UNSUBSCRIBED, "sms"): "unsubscribed from SMS",
    (Reason.NO_CONSENT, "email"): "not subscribed to e-mails (consent pending)",
    (Reason.NO_CONSENT, "sms"): "not subscribed to SMS (consent pending)",
}


def reason_text(code: str | None, channel: str | None = None) -> str:
    """The words for a reason code (the code itself when unknown); `channel` sharpens a few."""
    if not code:
        return ""
    if channel is not None and (code, channel) in _CHANNEL_TEXT:
        return _CHANNEL_TEXT[(code, channel)]
    return REASON_TEXT.get(code, code.replace("_", " "))


# --- The rule in Python (just before sending) -------------------------------------------------------


@dataclass(frozen=True)
class Eligibility:
    """Either a skip reason, or the address to send to."""

    reason: Reason | None
    address: str | None = None

    @property
    def go(self) -> bool:
        """Whether the message may be sent."""
        return self.reason is None


def check_recipient(
    contact: Contact | None, channel: str, *, allow_pending: bool, region: str
) -> Eligibility:
    """The rule above for one contact as it is now; `allow_pending` only for service messages."""
    if contact is None:
        return Eligibility(Reason.NO_CONTACT)
    status = contact.email_marketing_status if channel == "email" else contact.sms_marketing_status
    if status == MarketingStatus.UNSUBSCRIBED:
        return Eligibility(Reason.UNSUBSCRIBED)
    if contact.archived_at is not None:
        return Eligibility(Reason.CONTACT_ARCHIVED)
    if status != MarketingStatus.SUBSCRIBED and not allow_pending:
        return Eligibility(Reason.NO_CONSENT)
    if channel == "email":
        address = (contact.email or "").strip()
        return Eligibility(None, address) if address else Eligibility(Reason.NO_EMAIL)
    # `region` was applied when the phone was stored; the stored E.164 form is what is sent to.
    number = contact.phone_e164 if contact.phone_is_mobile else None
    return Eligibility(None, number) if number else Eligibility(Reason.NO_MOBILE)


# --- The same rule as SQL (audiences, marketing only) ------------------------------------------------


def _present(column: Any) -> ColumnElement[bool]:
    return and_(column.is_not(None), func.trim(column) != "")


def _status(channel: str) -> Any:
    return Contact.email_marketing_status if channel == "email" else Contact.sms_marketing_status


def _has_address(channel: str) -> ColumnElement[bool]:
    if channel == "email":
        return _present(Contact.email)
    return and_(Contact.phone_is_mobile.is_(True), Contact.phone_e164.is_not(None))


RECEIVE = "receive"


def sql_codes(channel: str) -> tuple[str, ...]:
    """What each small integer of `reason_expression` means; 0 is RECEIVE."""
    return (RECEIVE, Reason.UNSUBSCRIBED.value, Reason.CONTACT_ARCHIVED.value, Reason.NO_CONSENT.value,
            (Reason.NO_EMAIL if channel == "email" else Reason.NO_MOBILE).value)


def reason_expression(channel: str) -> Any:
    """0 (receives a marketing message), or the index in `sql_codes` of the first reason they do not.

    For SMS it reads the stored mobile flag, as the Python rule does.
    """
    status = _status(channel)
    return case(
        (status == MarketingStatus.UNSUBSCRIBED.value, 1),
        (Contact.archived_at.is_not(None), 2),
        (status != MarketingStatus.SUBSCRIBED.value, 3),
        (~_has_address(channel), 4),
        else_=0,
    )


def can_receive(channel: str) -> ColumnElement[bool]:
    """Subscribed on the channel, not archived, with an address: the only people marketing reaches."""
    return and_(
        _status(channel) == MarketingStatus.SUBSCRIBED.value,
        Contact.archived_at.is_(None),
        _has_address(channel),
    )
