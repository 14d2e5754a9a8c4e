"""Upcoming appointment: a reminder N hours or days before it starts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from oncord.automations.reasons import Reason
from oncord.automations.spec import (
    DUE_TOLERANCE,
    SEND,
    AutomationSpec,
    ChannelQuiet,
    QuietRule,
    Verdict,
    skip,
    wait,
)
from oncord.automations.triggers.base import (
    Firing,
    MessageDefaults,
    Option,
    Timing,
    TriggerDef,
    candidates,
)
from oncord.messaging.quiet_hours import QuietHours
from oncord.models import Appointment, Business, Trigger
from oncord.timezones import is_real_zone

# The longest quiet hours can bring a reminder forward.
QUIET_LOOKAHEAD = timedelta(days=1)


def reminder_due(starts_at: datetime, offset: timedelta, quiet: QuietHours | None, zone: str) -> datetime:
    """When a reminder goes: `offset` before the start, or, when that falls inside the channel's
    quiet hours (in the appointment's zone), the last minute before they begin: the evening before
    rather than skipped or sent after the appointment."""
    due = starts_at - offset
    if quiet is None or not is_real_zone(zone):
        return due
    return quiet.latest_before(due, zone)


def find(session: Session, spec: AutomationSpec, now: datetime, quiet: QuietRule) -> Iterable[Firing]:
    """Reminders due now; a moved appointment needs nothing, its reminder is found at the new time."""
    assert spec.cutoff is not None
    cutoff, offset = spec.cutoff, spec.offset
    since = spec.planned_through or cutoff
    # Due and still ahead, plus (after an outage) everything that fell due since the last pass;
    # and up to a day further for reminders that quiet hours bring forward.
    lower = min(since + offset, now)
    ahead = QUIET_LOOKAHEAD if any(ch in quiet.hours for ch in spec.channels) else timedelta(0)
    query = (
        candidates(spec)
        .outerjoin(Business, Business.id == Appointment.business_id)
        .add_columns(Business.time_zone_identifier.label("zone"))
        .where(Appointment.starts_at > lower, Appointment.starts_at <= now + offset + ahead)
    )
    for row in session.execute(query.execution_options(yield_per=2000)):
        due = row.starts_at - offset
        zone = row.zone or quiet.clinic_zone
        channel_due = {
            ch: reminder_due(row.starts_at, offset, quiet.hours.get(ch), zone) for ch in spec.channels
        }
        if min(channel_due.values()) > now:
            continue  # not yet, on any channel
        if row.cancelled_at is not None:
            # Logged once the reminder would have gone, so staff can see why there was none.
            if due >= cutoff and cutoff <= row.cancelled_at < due:
                yield Firing(row.id, row.contact_id, due, due, Reason.CANCELLED_BEFORE_DUE)
            continue
        if row.starts_at <= now:
            if due >= cutoff:
                yield Firing(row.id, row.contact_id, due, due, Reason.ALREADY_STARTED)
            continue
        created = row.cliniko_created_at
        if created is not None and created > due:
            # Booked after its reminder time: send at once (unless turned off) if booked after go-live.
            if created < cutoff:
                continue
            if spec.send_when_booked_late:
                yield Firing(row.id, row.contact_id, due, now)
            else:
                yield Firing(row.id, row.contact_id, due, now, Reason.BOOKED_LATE)
            continue
        if due >= cutoff:
            yield Firing(row.id, row.contact_id, due, due, channel_due=channel_due)


def qualifies(spec: AutomationSpec, appointment: Appointment, now: datetime, quiet: ChannelQuiet) -> Verdict:
    """Still booked, not started, and its (possibly moved) reminder time has come."""
    if appointment.cancelled_at is not None:
        return skip(Reason.CANCELLED_BEFORE_DUE)
    if appointment.starts_at <= now:
        return skip(Reason.ALREADY_STARTED)
    due = reminder_due(appointment.starts_at, spec.offset, quiet.hours, quiet.zone)
    if due > now + DUE_TOLERANCE:
        # Rescheduled to later: the reminder moves with the appointment.
        return wait(Reason.RESCHEDULED, due)
    return SEND


ENTRY = TriggerDef(
    key=Trigger.UPCOMING,
    label="Upcoming appointment",
    choice="Upcoming appointment (a reminder before it starts)",
    description="A reminder the chosen time before each booked appointment starts. If the appointment "
                "moves, the reminder moves with it; if it is cancelled first, nothing is sent.",
    event_phrase="an appointment",
    timing=Timing.BEFORE_START,
    defaults=MessageDefaults(
        offset_minutes=24 * 60,
        email_subject="Reminder: your {{ appointment_type }} on {{ appointment_date }}",
        email_body=(
            "Hi {{ first_name }},\n\n"
            "This is a reminder of your {{ appointment_type }} with {{ practitioner }} at {{ business }} on "
            "{{ appointment_start }}.\n\n"
            "If you need to change it, you can book online: {{ book_now_url }}\n\n"
            "See you soon!"
        ),
        sms_body="Hi {{ first_name }}, a reminder of your appointment with {{ practitioner }} on "
                 "{{ appointment_start }}.",
    ),
    find=find,
    qualifies=qualifies,
    options=frozenset({Option.SERVICE, Option.BOOKED_LATE}),
    min_offset_minutes=60,
    min_offset_message="A reminder goes at least 1 hour before the appointment.",
    timing_hint_text="How long before the appointment starts (at least 1 hour).",
)
