"""First appointment: a welcome when a new patient books, i.e. an appointment with no earlier one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

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
    return Appointment.cliniko_created_at


def _conditions(spec: AutomationSpec, lower_due: datetime) -> list[Any]:
    earlier = aliased(Appointment)
    # A patient with an earlier appointment that was not cancelled has been here before.
    seen_before = (
        select(earlier.id)
        .where(
            earlier.contact_id == Appointment.contact_id,
            earlier.id != Appointment.id,
            earlier.cancelled_at.is_(None),
            earlier.starts_at < Appointment.starts_at,
        )
        .correlate(Appointment)
    )
    return [Appointment.cancelled_at.is_(None), Appointment.starts_at > lower_due, ~exists(seen_before)]


ENTRY = TriggerDef(
    key=Trigger.FIRST_APPOINTMENT,
    label="First appointment booked",
    choice="A new patient booked their first appointment",
    description="Sent the chosen time after a patient with no earlier appointment books one (0 sends "
    "straight away); not sent once the appointment has started or was cancelled.",
    event_phrase="a first booking",
    timing=Timing.AFTER_EVENT,
    defaults=MessageDefaults(
        offset_minutes=0,
        email_subject="Welcome to {{ business }}, {{ first_name }}",
        email_body=(
            "Hi {{ first_name }},\n\n"
            "Welcome! Your {{ appointment_type }} with {{ practitioner }} is on {{ appointment_start }}. "
            "Please arrive five minutes early.\n\n"
            "{{ business }}"
        ),
        sms_body="Hi {{ first_name }}, welcome to {{ business }}! See you {{ appointment_start }}.",
    ),
    find=event_finder(_event, _conditions),
    qualifies=still_booked_and_ahead,
)
