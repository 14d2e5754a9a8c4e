"""Recall: patients whose last visit was N months ago and who have nothing booked since.

The enrolment key is the last visit ("recall:<appointment id>"): the daily evaluation finds the same
lapse every day and enters it once; a later visit makes a new last visit, so a patient who comes
back and then lapses again enters again. The journey ends when the patient books (runner exit rule).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session, aliased, object_session

from oncord.automations.reasons import Reason
from oncord.automations.spec import SEND, AutomationSpec, ChannelQuiet, QuietRule, Verdict, skip
from oncord.automations.triggers.base import Firing, MessageDefaults, Option, Timing, TriggerDef, aware
from oncord.automations.triggers.states import add_months, counts_as_visit, taken_keys
from oncord.models import Appointment, Contact, Trigger

KEY_PREFIX = "recall:"
MONTH_CHOICES = (3, 6, 12)


def _later_visit(visit: Any) -> Any:
    later = aliased(Appointment)
    return (
        select(later.id)
        .where(
            later.contact_id == visit.contact_id,
            later.id != visit.id,
            counts_as_visit(later),
            or_(later.starts_at > visit.starts_at,
                and_(later.starts_at == visit.starts_at, later.id > visit.id)),
        )
        .correlate(visit)
    )


def find(session: Session, spec: AutomationSpec, now: datetime, quiet: QuietRule) -> Iterable[Firing]:
    """Each patient's last visit, when it is N months old and nothing was booked after it."""
    assert spec.cutoff is not None
    months = spec.recall_months
    query = (
        select(Appointment.id, Appointment.contact_id, Appointment.starts_at)
        .join(Contact, Contact.id == Appointment.contact_id)
        .where(
            Contact.archived_at.is_(None),
            counts_as_visit(Appointment),
            Appointment.starts_at <= add_months(now, -months),
            ~exists(_later_visit(Appointment)),
        )
    )
    if not spec.backfill_all:
        # Only new ones: lapses that happen after the switch-on (a day's slack, checked exactly below).
        query = query.where(Appointment.starts_at >= add_months(spec.cutoff, -months) - timedelta(days=1))
    if spec.appointment_type_ids:
        query = query.where(Appointment.appointment_type_id.in_(sorted(spec.appointment_type_ids)))
    if spec.practitioner_ids:
        query = query.where(Appointment.practitioner_id.in_(sorted(spec.practitioner_ids)))
    taken = taken_keys(session, spec.id, KEY_PREFIX)
    for row in session.execute(query):
        key = f"{KEY_PREFIX}{row.id}"
        if key in taken:
            continue
        if not spec.backfill_all and add_months(aware(row.starts_at), months) < spec.cutoff:
            continue
        yield Firing(row.id, row.contact_id, now, now, once_key=key)


def qualifies(spec: AutomationSpec, appointment: Appointment, now: datetime, quiet: ChannelQuiet) -> Verdict:
    """Still lapsed: nothing booked after the last visit since the patient was found."""
    session = object_session(appointment)
    if session is not None and session.scalar(select(exists(_later_visit(Appointment)).where(
            Appointment.id == appointment.id))):
        return skip(Reason.NO_LONGER_MATCHES)
    return SEND


ENTRY = TriggerDef(
    key=Trigger.RECALL,
    label="Recall",
    choice="No appointment for some months, and none booked",
    description="Checked every morning in the clinic's time zone: patients whose last visit was the "
    "chosen number of months ago and who have nothing booked since. Once per lapse; ends when they book.",
    event_phrase="the recall date",
    timing=Timing.AFTER_EVENT,
    defaults=MessageDefaults(
        offset_minutes=0,
        email_subject="Time for a check-up, {{ first_name }}?",
        email_body=(
            "Hi {{ first_name }},\n\n"
            "It has been a while since your last visit to {{ business }}. If it is time for a check-up, "
            "you can book online: {{ book_now_url }}\n\n"
            "{{ business }}"
        ),
        sms_body="Hi {{ first_name }}, it's been a while! Book your next visit at {{ business }}: "
        "{{ book_now_url }}",
    ),
    find=find,
    qualifies=qualifies,
    options=frozenset({Option.RECALL_MONTHS}),
    state_based=True,
)
