"""Appointment booked: a confirmation or welcome when any appointment is booked (optionally only
bookings made online); once per appointment, and only bookings made after the switch-on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from oncord.automations.spec import AutomationSpec
from oncord.automations.triggers.base import (
    MessageDefaults,
    Option,
    Timing,
    TriggerDef,
    event_finder,
    still_booked_and_ahead,
)
from oncord.models import Appointment, Trigger


def _event() -> Any:
    return Appointment.cliniko_created_at


def _conditions(spec: AutomationSpec, lower_due: datetime) -> list[Any]:
    conditions = [Appointment.cancelled_at.is_(None), Appointment.starts_at > lower_due]
    if spec.online_only:
        conditions.append(Appointment.booked_online.is_(True))
    return conditions


ENTRY = TriggerDef(
    key=Trigger.BOOKED,
    label="Appointment booked",
    choice="The contact booked an appointment",
    description="Sent the chosen time after an appointment is booked (0 sends straight away); "
    "optionally only bookings made online. Not sent once it has started or was cancelled.",
    event_phrase="a booking",
    timing=Timing.AFTER_EVENT,
    defaults=MessageDefaults(
        offset_minutes=0,
        email_subject="Your {{ appointment_type }} is booked, {{ first_name }}",
        email_body=(
            "Hi {{ first_name }},\n\n"
            "Thanks for booking your {{ appointment_type }} with {{ practitioner }} on "
            "{{ appointment_start }}.\n\n"
            "{{ business }}"
        ),
        sms_body="Hi {{ first_name }}, you're booked in at {{ business }} {{ appointment_start }}.",
    ),
    find=event_finder(_event, _conditions),
    qualifies=still_booked_and_ahead,
    options=frozenset({Option.ONLINE_ONLY}),
)
