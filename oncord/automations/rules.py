"""The rules of each trigger, consent and addresses: what qualifies, when it is due, why not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from oncord.messaging.eligibility import Reason, check_recipient
from oncord.messaging.quiet_hours import QuietHours
from oncord.models import Appointment, Automation, ClinikoConnection, Contact, Trigger
from oncord.timezones import is_real_zone

# A follow-up more than this late (e.g. the workers were down for days) is skipped, not sent.
LATE_LIMIT = timedelta(days=2)
# A reminder whose recomputed due time is within this of now is due (clock granularity).
DUE_TOLERANCE = timedelta(minutes=1)
# Did-not-arrive is dated by Cliniko's updated_at; an appointment older than this is history.
DNA_MAX_AGE = timedelta(days=2)


@dataclass(frozen=True)
class AutomationSpec:
    """A plain snapshot of an automation, usable after its session has closed."""

    id: int
    name: str
    enabled: bool
    trigger: str
    offset: timedelta
    require_arrived: bool
    send_when_booked_late: bool
    is_service: bool
    channels: tuple[str, ...]
    appointment_type_ids: frozenset[int]
    practitioner_ids: frozenset[int]
    email_subject: str
    email_body: str
    sms_body: str
    # Activity before this moment never fires; None while the automation or Cliniko is off.
    cutoff: datetime | None
    planned_through: datetime | None

    @property
    def trigger_key(self) -> str:
        """The trigger part of the once-only key."""
        return self.trigger

    def matches(self, appointment_type_id: int | None, practitioner_id: int | None) -> bool:
        """Whether an appointment passes the type and practitioner filters (empty means any)."""
        if self.appointment_type_ids and appointment_type_id not in self.appointment_type_ids:
            return False
        if self.practitioner_ids and practitioner_id not in self.practitioner_ids:
            return False
        return True


def spec_of(automation: Automation, connection: ClinikoConnection | None) -> AutomationSpec:
    """Snapshot an automation with its effective cutoff (the later of go-live and switch-on)."""
    cutoff = None
    if automation.enabled and automation.activated_at is not None and connection is not None:
        cutoff = max(automation.activated_at, connection.enabled_at)
    return AutomationSpec(
        id=automation.id,
        name=automation.name,
        enabled=automation.enabled,
        trigger=automation.trigger,
        offset=timedelta(minutes=automation.offset_minutes),
        require_arrived=automation.require_arrived,
        send_when_booked_late=automation.send_when_booked_late,
        is_service=automation.is_service and automation.trigger == Trigger.UPCOMING,
        channels=tuple(automation.channels),
        appointment_type_ids=frozenset(t.id for t in automation.appointment_types),
        practitioner_ids=frozenset(p.id for p in automation.practitioners),
        email_subject=automation.email_subject,
        email_body=automation.email_body,
        sms_body=automation.sms_body,
        cutoff=cutoff,
        planned_through=automation.planned_through,
    )


@dataclass(frozen=True)
class Verdict:
    """Send now, skip for good, or wait until a later moment; with the reason."""

    action: str
    reason: str | None = None
    until: datetime | None = None

    @property
    def go(self) -> bool:
        """Whether the message may be sent now."""
        return self.action == "send"


SEND = Verdict("send")


def skip(reason: Reason) -> Verdict:
    """A final skip."""
    return Verdict("skip", reason.value)


def wait(reason: Reason, until: datetime) -> Verdict:
    """Stay pending until a later moment."""
    return Verdict("wait", reason.value, until)


def event_time(trigger: str, appointment: Appointment) -> datetime | None:
    """When the trigger happened for this appointment (None when it has not)."""
    if trigger == Trigger.UPCOMING:
        return appointment.starts_at
    if trigger == Trigger.CANCELLED:
        return appointment.cancelled_at
    if trigger == Trigger.DID_NOT_ARRIVE:
        return appointment.cliniko_updated_at or appointment.starts_at
    return appointment.ends_at or appointment.starts_at


def reminder_due(starts_at: datetime, offset: timedelta, quiet: QuietHours | None, zone: str) -> datetime:
    """When a reminder goes: `offset` before the start, or, when that falls inside the channel's
    quiet hours (in the appointment's zone), the last minute before they begin: the evening before
    rather than skipped or sent after the appointment."""
    due = starts_at - offset
    if quiet is None or not is_real_zone(zone):
        return due
    return quiet.latest_before(due, zone)


def check_appointment(
    spec: AutomationSpec,
    appointment: Appointment | None,
    now: datetime,
    *,
    quiet: QuietHours | None = None,
    zone: str = "UTC",
) -> Verdict:
    """Whether the appointment, as it is now, still qualifies for the automation's message
    (`quiet` and `zone`: the channel's quiet hours and the appointment's zone, for a reminder's time)."""
    if not spec.enabled:
        return skip(Reason.AUTOMATION_OFF)
    if appointment is None or appointment.archived_at is not None:
        return skip(Reason.DELETED)
    if appointment.contact_id is None:
        return skip(Reason.NO_CONTACT)
    if not spec.matches(appointment.appointment_type_id, appointment.practitioner_id):
        return skip(Reason.NO_LONGER_MATCHES)
    trigger = spec.trigger
    if trigger == Trigger.UPCOMING:
        if appointment.cancelled_at is not None:
            return skip(Reason.CANCELLED_BEFORE_DUE)
        if appointment.starts_at <= now:
            return skip(Reason.ALREADY_STARTED)
        due = reminder_due(appointment.starts_at, spec.offset, quiet, zone)
        if due > now + DUE_TOLERANCE:
            # Rescheduled to later: the reminder moves with the appointment.
            return wait(Reason.RESCHEDULED, due)
        return SEND
    if trigger == Trigger.CANCELLED:
        return SEND if appointment.cancelled_at is not None else skip(Reason.DELETED)
    if appointment.cancelled_at is not None:
        return skip(Reason.CANCELLED)
    if trigger == Trigger.DID_NOT_ARRIVE:
        return SEND if appointment.did_not_arrive else skip(Reason.NO_LONGER_DID_NOT_ARRIVE)
    # Finished.
    if appointment.did_not_arrive:
        return skip(Reason.DID_NOT_ARRIVE)
    if spec.require_arrived and not appointment.patient_arrived:
        return skip(Reason.NOT_ARRIVED)
    ends = appointment.ends_at or appointment.starts_at
    if ends + spec.offset > now + DUE_TOLERANCE:
        return wait(Reason.RESCHEDULED, ends + spec.offset)
    return SEND


def too_late(spec: AutomationSpec, event_at: datetime | None, now: datetime) -> bool:
    """Whether a follow-up (not a reminder) has become too late to send."""
    if spec.trigger == Trigger.UPCOMING or event_at is None:
        return False
    return event_at + spec.offset + LATE_LIMIT < now


def check_contact(
    spec: AutomationSpec, contact: Contact | None, channel: str, region: str
) -> tuple[Verdict, str | None]:
    """Whether the contact may get this message on this channel, and the address to use.

    The automation's own question (is the channel still on) first, then the one eligibility rule.
    """
    if contact is not None and channel not in spec.channels:
        return skip(Reason.CHANNEL_OFF), None
    found = check_recipient(contact, channel, allow_pending=spec.is_service, region=region)
    if found.reason is not None:
        return skip(found.reason), None
    return SEND, found.address
