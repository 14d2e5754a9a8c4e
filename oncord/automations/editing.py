"""Creating, changing and switching automations (callers commit)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from oncord.automations.triggers import Option, Timing, trigger_def
from oncord.clock import Clock
from oncord.models import AppointmentType, Automation, Backfill, Practitioner, Trigger


@dataclass(frozen=True)
class AutomationData:
    """What the editor saves."""

    name: str
    enabled: bool
    trigger: str
    offset_minutes: int
    require_arrived: bool
    send_when_booked_late: bool
    is_service: bool
    appointment_type_ids: Sequence[int]
    practitioner_ids: Sequence[int]
    send_email: bool
    email_subject: str
    email_body: str
    send_sms: bool
    sms_body: str
    # Reminders: skip patients Cliniko reminds itself.
    skip_cliniko_reminded: bool = False
    # Appointment booked: only online bookings.
    online_only: bool = False
    # Recall: months without an appointment; None keeps what the automation has.
    recall_months: int | None = None


def save_automation(
    session: Session, automation: Automation | None, data: AutomationData, clock: Clock
) -> Automation:
    """Create (automation None) or update an automation from the editor's data."""
    now = clock.now()
    if automation is None:
        automation = Automation(created_at=now, updated_at=now, enabled=False)
        session.add(automation)
    automation.name = data.name.strip()
    automation.trigger = data.trigger
    automation.offset_minutes = data.offset_minutes
    options = trigger_def(data.trigger).options
    automation.require_arrived = data.require_arrived and Option.REQUIRE_ARRIVED in options
    automation.send_when_booked_late = data.send_when_booked_late
    automation.skip_cliniko_reminded = data.skip_cliniko_reminded and data.trigger == Trigger.UPCOMING
    automation.is_service = data.is_service and Option.SERVICE in options
    automation.online_only = data.online_only and Option.ONLINE_ONLY in options
    if data.recall_months is not None:
        automation.recall_months = data.recall_months
    automation.send_email = data.send_email
    automation.email_subject = data.email_subject.strip()
    automation.email_body = data.email_body.strip()
    automation.send_sms = data.send_sms
    automation.sms_body = data.sms_body.strip()
    automation.appointment_types = list(
        session.scalars(select(AppointmentType).where(AppointmentType.id.in_(list(data.appointment_type_ids))))
    )
    automation.practitioners = list(
        session.scalars(select(Practitioner).where(Practitioner.id.in_(list(data.practitioner_ids))))
    )
    automation.updated_at = now
    set_enabled(automation, data.enabled, clock)
    session.flush()
    return automation


def set_enabled(
    automation: Automation, enabled: bool, clock: Clock, *, backfill: Backfill | None = None
) -> None:
    """Turn an automation on or off; turning it on never back-fills what happened while it was off.

    A state trigger (recall, birthday) is only turned on with staff's choice about the people who
    match already (oncord.automations.enablement); without one it stays off.
    """
    state_based = trigger_def(automation.trigger).state_based
    if enabled and not automation.enabled and state_based and backfill is None:
        return
    if enabled and not automation.enabled:
        now = clock.now()
        automation.activated_at = now
        automation.planned_through = now
    automation.enabled = enabled
    automation.updated_at = clock.now()


def describe_offset(minutes: int) -> str:
    """1440 -> "1 day", 120 -> "2 hours", 0 -> "" ."""
    if minutes <= 0:
        return ""
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return f"{days} day{'s' if days != 1 else ''}"
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def describe_trigger(automation: Automation) -> str:
    """The trigger and timing in words, e.g. "1 day before an appointment"."""
    entry = trigger_def(automation.trigger)
    offset = describe_offset(automation.offset_minutes)
    event = entry.phrase(automation.require_arrived)
    if automation.trigger == Trigger.RECALL:
        return f"{automation.recall_months} months without an appointment (checked each morning)"
    if automation.trigger == Trigger.BIRTHDAY:
        return "On the birthday, in the morning"
    if automation.trigger == Trigger.BOOKED and automation.online_only:
        event = "an online booking"
    if entry.timing is Timing.BEFORE_START:
        return f"{offset} before {event}"
    return f"{offset} after {event}" if offset else f"Straight after {event}"
