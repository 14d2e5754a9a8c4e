"""Appointment rescheduled: a note that the appointment moved, once per appointment.

Cliniko shows a reschedule only as a changed starts_at; the pull keeps the start it replaced
(previous_starts_at) and dates the move by the record's updated_at (rescheduled_at). The first
pull of an appointment never counts as a move, so history sends nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from oncord.automations.spec import AutomationSpec
from oncord.automations.triggers.base import (
    MessageDefaults,
    Timing,
    TriggerDef,
    event_finder,
    still_booked_and_ahead,
)
from oncord.models import Appointment, Trigger


def _event() -> Any:
    return Appointment.rescheduled_at


def _conditions(spec: AutomationSpec, lower_due: datetime) -> list[Any]:
    return [Appointment.rescheduled_at.is_not(None), Appointment.cancelled_at.is_(None)]


ENTRY = TriggerDef(
    key=Trigger.RESCHEDULED,
    label="Appointment rescheduled",
    choice="The appointment was moved to another time",
    description="Sent the chosen time after Cliniko shows an appointment at a new start time (once per "
                "appointment; not if it is cancelled or has started by then).",
    event_phrase="a reschedule",
    timing=Timing.AFTER_EVENT,
    defaults=MessageDefaults(
        offset_minutes=0,
        email_subject="Your appointment has moved to {{ appointment_date }}",
        email_body=(
            "Hi {{ first_name }},\n\n"
            "Your {{ appointment_type }} with {{ practitioner }} at {{ business }} is now on "
            "{{ appointment_start }}.\n\n"
            "If that time does not suit you, you can book online: {{ book_now_url }}"
        ),
        sms_body="Hi {{ first_name }}, your appointment with {{ practitioner }} is now on "
                 "{{ appointment_start }}.",
    ),
    find=event_finder(_event, _conditions),
    qualifies=still_booked_and_ahead,
)
