"""Appointment finished: care instructions or a feedback request after it ends."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, or_

from oncord.automations.reasons import Reason
from oncord.automations.spec import DUE_TOLERANCE, SEND, AutomationSpec, ChannelQuiet, Verdict, skip, wait
from oncord.automations.triggers.base import MessageDefaults, Option, Timing, TriggerDef, event_finder
from oncord.models import Appointment, AppointmentKind, Trigger


def _event() -> Any:
    return func.coalesce(Appointment.ends_at, Appointment.starts_at)


def _conditions(spec: AutomationSpec, lower_due: datetime) -> list[Any]:
    conditions: list[Any] = [
        Appointment.cancelled_at.is_(None),
        or_(Appointment.did_not_arrive.is_(None), Appointment.did_not_arrive.is_(False)),
        # A class attendee still `arrived: false` when the class ends did not arrive, even
        # before the next pull records it so (oncord.sync.upsert_classes).
        or_(Appointment.kind != AppointmentKind.CLASS.value, Appointment.patient_arrived.is_not(False)),
    ]
    if spec.require_arrived:
        conditions.append(Appointment.patient_arrived.is_(True))
    return conditions


def qualifies(spec: AutomationSpec, appointment: Appointment, now: datetime, quiet: ChannelQuiet) -> Verdict:
    """Not cancelled or missed, arrived if asked, and its (possibly moved) end has passed."""
    if appointment.cancelled_at is not None:
        return skip(Reason.CANCELLED)
    if appointment.did_not_arrive:
        return skip(Reason.DID_NOT_ARRIVE)
    if spec.require_arrived and not appointment.patient_arrived:
        return skip(Reason.NOT_ARRIVED)
    ends = appointment.ends_at or appointment.starts_at
    if ends + spec.offset > now + DUE_TOLERANCE:
        return wait(Reason.RESCHEDULED, ends + spec.offset)
    return SEND


ENTRY = TriggerDef(
    key=Trigger.FINISHED,
    label="Appointment finished",
    choice="The contact finished the appointment",
    description="Sent the chosen time after an appointment's end time, unless it was cancelled or marked "
                "did-not-arrive (optionally only if marked arrived).",
    event_phrase="an appointment ends",
    event_phrase_arrived="an arrived appointment ends",
    timing=Timing.AFTER_EVENT,
    defaults=MessageDefaults(
        offset_minutes=2 * 60,
        email_subject="After your {{ appointment_type }}, {{ first_name }}",
        email_body=(
            "Hi {{ first_name }},\n\n"
            "Thank you for coming in to see {{ practitioner }} today. If you have any questions about "
            "your care, reply to this e-mail.\n\n"
            "Your next appointment can be booked online: {{ book_now_url }}\n\n"
            "{{ business }}"
        ),
        sms_body="Hi {{ first_name }}, thanks for visiting {{ business }} today. "
                 "Book again: {{ book_now_url }}",
    ),
    find=event_finder(_event, _conditions),
    qualifies=qualifies,
    options=frozenset({Option.REQUIRE_ARRIVED}),
)
