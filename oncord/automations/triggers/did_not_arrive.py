"""Did not arrive: a "we missed you" after the appointment is marked did-not-arrive."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func

from oncord.automations.reasons import Reason
from oncord.automations.spec import SEND, AutomationSpec, ChannelQuiet, Verdict, skip
from oncord.automations.triggers.base import MessageDefaults, Timing, TriggerDef, event_finder
from oncord.models import Appointment, Trigger

# Did-not-arrive is dated by Cliniko's updated_at; an appointment older than this is history.
DNA_MAX_AGE = timedelta(days=2)


def _event() -> Any:
    return func.coalesce(Appointment.cliniko_updated_at, Appointment.starts_at)


def _conditions(spec: AutomationSpec, lower_due: datetime) -> list[Any]:
    return [
        Appointment.did_not_arrive.is_(True),
        Appointment.cancelled_at.is_(None),
        Appointment.starts_at >= lower_due - spec.offset - DNA_MAX_AGE,
    ]


def qualifies(spec: AutomationSpec, appointment: Appointment, now: datetime, quiet: ChannelQuiet) -> Verdict:
    """Still marked did-not-arrive and not cancelled."""
    if appointment.cancelled_at is not None:
        return skip(Reason.CANCELLED)
    return SEND if appointment.did_not_arrive else skip(Reason.NO_LONGER_DID_NOT_ARRIVE)


ENTRY = TriggerDef(
    key=Trigger.DID_NOT_ARRIVE,
    label="Did not arrive",
    choice="The contact did not arrive",
    description="Sent the chosen time after an appointment is marked did-not-arrive in Cliniko.",
    event_phrase="a did-not-arrive",
    timing=Timing.AFTER_EVENT,
    defaults=MessageDefaults(
        offset_minutes=2 * 60,
        email_subject="We missed you today, {{ first_name }}",
        email_body=(
            "Hi {{ first_name }},\n\n"
            "We missed you at your {{ appointment_type }} with {{ practitioner }} today. "
            "You can book a new time online: {{ book_now_url }}\n\n"
            "{{ business }}"
        ),
        sms_body="Hi {{ first_name }}, we missed you at {{ business }} today. Rebook: {{ book_now_url }}",
    ),
    find=event_finder(_event, _conditions),
    qualifies=qualifies,
)
