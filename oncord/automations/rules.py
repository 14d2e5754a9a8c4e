"""Whether a message still qualifies just before it goes: the checks every trigger shares, then the
trigger's own rule from its registry entry, then consent and address."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import object_session

from oncord.automations.journeys.cliniko_reminders import CLINIKO_REMINDS
from oncord.automations.journeys.versions import current_version
from oncord.automations.spec import (
    LATE_LIMIT,
    NO_CHANNEL_QUIET,
    SEND,
    AutomationSpec,
    ChannelQuiet,
    Verdict,
    skip,
)
from oncord.automations.triggers import Option, Timing, trigger_def
from oncord.messaging.eligibility import Reason, check_recipient
from oncord.models import Appointment, Automation, Backfill, ClinikoConnection, Contact, Trigger


def spec_of(automation: Automation, connection: ClinikoConnection | None) -> AutomationSpec:
    """Snapshot an automation with its effective cutoff (the later of go-live and switch-on)."""
    cutoff = None
    if automation.enabled and automation.activated_at is not None and connection is not None:
        cutoff = max(automation.activated_at, connection.enabled_at)
    session = object_session(automation)
    version = current_version(session, automation.id) if session is not None else None
    return AutomationSpec(
        id=automation.id,
        name=automation.name,
        enabled=automation.enabled,
        trigger=automation.trigger,
        offset=timedelta(minutes=automation.offset_minutes),
        require_arrived=automation.require_arrived,
        send_when_booked_late=automation.send_when_booked_late,
        is_service=automation.is_service and Option.SERVICE in trigger_def(automation.trigger).options,
        channels=tuple(automation.channels),
        appointment_type_ids=frozenset(t.id for t in automation.appointment_types),
        practitioner_ids=frozenset(p.id for p in automation.practitioners),
        email_subject=automation.email_subject,
        email_body=automation.email_body,
        sms_body=automation.sms_body,
        cutoff=cutoff,
        planned_through=automation.planned_through,
        journey_version_id=version.id if version is not None else None,
        skip_cliniko_reminded=automation.skip_cliniko_reminded and automation.trigger == Trigger.UPCOMING,
        online_only=automation.online_only and automation.trigger == Trigger.BOOKED,
        recall_months=automation.recall_months,
        backfill_all=automation.backfill == Backfill.ALL,
    )


def check_appointment(
    spec: AutomationSpec,
    appointment: Appointment | None,
    now: datetime,
    quiet: ChannelQuiet = NO_CHANNEL_QUIET,
) -> Verdict:
    """Whether the appointment, as it is now, still qualifies for the automation's message
    (`quiet`: the channel's quiet hours and the appointment's zone, for a reminder's time)."""
    if not spec.enabled:
        return skip(Reason.AUTOMATION_OFF)
    if appointment is None or appointment.archived_at is not None:
        return skip(Reason.DELETED)
    if appointment.contact_id is None:
        return skip(Reason.NO_CONTACT)
    if not spec.matches(appointment.appointment_type_id, appointment.practitioner_id):
        return skip(Reason.NO_LONGER_MATCHES)
    if spec.journey_step:
        # The journey's own exit rules decided when this step ran; only a cancelled reminder stops it.
        if trigger_def(spec.trigger).timing is Timing.BEFORE_START and appointment.cancelled_at is not None:
            return skip(Reason.CANCELLED)
        return SEND
    return trigger_def(spec.trigger).qualifies(spec, appointment, now, quiet)


def check_without_appointment(spec: AutomationSpec) -> Verdict:
    """Whether a message with no appointment behind it (a birthday) still goes: only the automation
    being on matters; the contact is checked as for every message."""
    return SEND if spec.enabled else skip(Reason.AUTOMATION_OFF)


def too_late(spec: AutomationSpec, event_at: datetime | None, now: datetime) -> bool:
    """Whether a follow-up (not a reminder) has become too late to send."""
    # A journey's send is dated by its step, which the journey ran on time.
    if spec.journey_step or trigger_def(spec.trigger).timing is Timing.BEFORE_START or event_at is None:
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
    reminded = contact is not None and contact.cliniko_reminder_type in CLINIKO_REMINDS
    if spec.skip_cliniko_reminded and reminded:
        return skip(Reason.CLINIKO_REMINDS), None
    found = check_recipient(contact, channel, allow_pending=spec.is_service, region=region)
    if found.reason is not None:
        return skip(found.reason), None
    return SEND, found.address
