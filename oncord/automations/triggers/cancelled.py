"""Appointment cancelled: a rebooking nudge after the cancellation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from oncord.automations.reasons import Reason
from oncord.automations.spec import SEND, AutomationSpec, ChannelQuiet, Verdict, skip
from oncord.automations.triggers.base import MessageDefaults, Timing, TriggerDef, event_finder
from oncord.models import Appointment, Trigger


def _event() -> Any:
    return Appointment.cancelled_at


def _conditions(spec: AutomationSpec, lower_due: datetime) -> list[Any]:
    return [Appointment.cancelled_at.is_not(None)]


def qualifies(spec: AutomationSpec, appointment: Appointment, now: datetime, quiet: ChannelQuiet) -> Verdict:
    """Still cancelled (a cancellation undone in Cliniko reads as gone)."""
    return SEND if appointment.cancelled_at is not None else skip(Reason.DELETED)


ENTRY = TriggerDef(
    key=Trigger.CANCELLED,
    label="Appointment cancelled",
    choice="The contact cancelled the appointment",
    description="Sent the chosen time after an appointment is cancelled in Cliniko (0 sends straight away).",
    event_phrase="a cancellation",
    timing=Timing.AFTER_EVENT,
    defaults=MessageDefaults(
        offset_minutes=60,
        email_subject="Sorry we will not see you, {{ first_name }}",
        email_body=(
            "Hi {{ first_name }},\n\n"
            "Your {{ appointment_type }} on {{ appointment_date }} was cancelled. When you are ready, "
            "you can book a new time online: {{ book_now_url }}\n\n"
            "{{ business }}"
        ),
        sms_body="Hi {{ first_name }}, your appointment was cancelled. Book a new time: {{ book_now_url }}",
    ),
    find=event_finder(_event, _conditions),
    qualifies=qualifies,
)
