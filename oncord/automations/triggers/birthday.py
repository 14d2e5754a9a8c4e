"""Birthday: a greeting on the patient's birthday (from the synced date of birth), marketing only.

Evaluated each morning in the clinic's time zone; someone born on 29 February is greeted on
28 February in other years. The enrolment key is "birthday:<contact>:<year>": once per contact per
year, however often the day is evaluated. The message's context is the contact's latest appointment;
a contact who never had one is greeted too, with the appointment's fields blank and {{ business }}
the clinic's name.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import extract, or_, select
from sqlalchemy.orm import Session

from oncord.automations.spec import SEND, AutomationSpec, ChannelQuiet, QuietRule, Verdict
from oncord.automations.triggers.base import Firing, MessageDefaults, Timing, TriggerDef
from oncord.automations.triggers.states import day_start, latest_appointment, local_day, taken_keys
from oncord.models import Appointment, Contact, MarketingStatus, Trigger

KEY_PREFIX = "birthday:"


def _birthdays(month: int, day: int, year: int) -> list[tuple[int, int]]:
    days = [(month, day)]
    if (month, day) == (2, 28) and not calendar.isleap(year):
        days.append((2, 29))
    return days


def find(session: Session, spec: AutomationSpec, now: datetime, quiet: QuietRule) -> Iterable[Firing]:
    """Subscribed contacts whose birthday is the clinic's today."""
    assert spec.cutoff is not None
    today = local_day(now, quiet.clinic_zone)
    if not spec.backfill_all and day_start(today, quiet.clinic_zone) < spec.cutoff:
        # Only new ones: today's birthdays were already under way when it was turned on.
        return
    subscribed = MarketingStatus.SUBSCRIBED.value
    anchor = (latest_appointment().where(Appointment.contact_id == Contact.id)
              .correlate(Contact).scalar_subquery())
    query = select(Contact.id, anchor.label("appointment_id")).where(
        Contact.archived_at.is_(None),
        Contact.date_of_birth.is_not(None),
        or_(Contact.email_marketing_status == subscribed, Contact.sms_marketing_status == subscribed),
        or_(*(
            (extract("month", Contact.date_of_birth) == m) & (extract("day", Contact.date_of_birth) == d)
            for m, d in _birthdays(today.month, today.day, today.year)
        )),
    )
    taken = taken_keys(session, spec.id, KEY_PREFIX)
    for row in session.execute(query):
        key = f"{KEY_PREFIX}{row.id}:{today.year}"
        if key in taken:
            continue
        yield Firing(row.appointment_id, row.id, now, now, once_key=key)


def qualifies(spec: AutomationSpec, appointment: Appointment, now: datetime, quiet: ChannelQuiet) -> Verdict:
    """Nothing about the appointment matters; consent is checked for every message."""
    return SEND


ENTRY = TriggerDef(
    key=Trigger.BIRTHDAY,
    label="Birthday",
    choice="It is the contact's birthday",
    description="Checked every morning in the clinic's time zone, from the date of birth in Cliniko "
    "(29 February: the 28th in other years). Marketing: Subscribed contacts only, once a year.",
    event_phrase="the birthday",
    timing=Timing.AFTER_EVENT,
    defaults=MessageDefaults(
        offset_minutes=0,
        email_subject="Happy birthday, {{ first_name }}!",
        email_body=(
            "Hi {{ first_name }},\n\nEveryone at {{ business }} wishes you a happy birthday!\n\n"
            "{{ business }}"
        ),
        sms_body="Happy birthday {{ first_name }}, from everyone at {{ business }}!",
    ),
    find=find,
    qualifies=qualifies,
    state_based=True,
)
