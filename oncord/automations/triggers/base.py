"""The shape of one trigger's registry entry, and the query pieces the entries share."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from oncord.automations.reasons import Reason
from oncord.automations.spec import LATE_LIMIT, SEND, AutomationSpec, ChannelQuiet, QuietRule, Verdict, skip
from oncord.db import UTCDateTime
from oncord.models import Appointment, AutomationSend, JourneyEnrolment, Trigger

_COLUMNS = (
    Appointment.id,
    Appointment.contact_id,
    Appointment.starts_at,
    Appointment.ends_at,
    Appointment.cancelled_at,
    Appointment.cliniko_created_at,
    Appointment.cliniko_updated_at,
    Appointment.archived_at,
)


class Timing(enum.Enum):
    """Whether the automation's offset counts back from the start or on from the event."""

    BEFORE_START = "before"
    AFTER_EVENT = "after"


class OncePer(enum.StrEnum):
    """What the once-only key counts: each appointment fires once (journeys will add enrolments)."""

    APPOINTMENT = "appointment"
    ENROLMENT = "enrolment"


class Option(enum.StrEnum):
    """Editor settings that only some triggers have."""

    # May be a service message (reaches Pending contacts).
    SERVICE = "service"
    # "Booked after its reminder time: send at once".
    BOOKED_LATE = "send_when_booked_late"
    # "Only appointments marked arrived".
    REQUIRE_ARRIVED = "require_arrived"
    # "Online bookings only".
    ONLINE_ONLY = "online_only"
    # "No appointment for N months".
    RECALL_MONTHS = "recall_months"


@dataclass(frozen=True)
class Firing:
    """A trigger that fired for an appointment: send at due_at, or record a skip."""

    # None only for a state trigger's firing with no appointment to speak of (a birthday).
    appointment_id: int | None
    contact_id: int
    event_at: datetime
    due_at: datetime
    skip: Reason | None = None
    # A reminder that quiet hours bring forward on some channels: their own due time.
    channel_due: dict[str, datetime] | None = None
    # What a journey enters once for; None: the appointment ("appointment:<id>").
    once_key: str | None = None

    @property
    def enrolment_key(self) -> str:
        """The journey's once-only key of this firing."""
        return self.once_key or f"appointment:{self.appointment_id}"


@dataclass(frozen=True)
class MessageDefaults:
    """What a new automation on this trigger starts with (and what switching to it fills in)."""

    offset_minutes: int
    email_subject: str
    email_body: str
    sms_body: str


# (session, spec, now, quiet hours) -> the firings due now that have no send yet.
Finder = Callable[[Session, AutomationSpec, datetime, QuietRule], Iterable[Firing]]
# (spec, appointment as it is now, now, the channel's quiet hours) -> send, skip or wait, after the
# checks every trigger shares.
Qualifier = Callable[[AutomationSpec, Appointment, datetime, ChannelQuiet], Verdict]


@dataclass(frozen=True)
class TriggerDef:
    """One trigger: its event query, its qualifying rule, its words, its defaults."""

    key: Trigger
    # Short name for lists and logs, e.g. "Appointment rescheduled".
    label: str
    # The editor's choice, e.g. "The appointment was moved to another time".
    choice: str
    # Under the choice in the editor: what counts and when the message goes.
    description: str
    # For "2 hours after <phrase>"; unused by triggers timed before the start.
    event_phrase: str
    timing: Timing
    defaults: MessageDefaults
    find: Finder
    qualifies: Qualifier
    once_per: OncePer = OncePer.APPOINTMENT
    options: frozenset[Option] = frozenset()
    # The shortest offset the editor accepts, and what it says below it.
    min_offset_minutes: int = 0
    min_offset_message: str = ""
    # For "Only appointments marked arrived": the phrase with that option on.
    event_phrase_arrived: str | None = None
    # Under the editor's timing; empty: "How long after <event>; 0 sends straight away."
    timing_hint_text: str = ""
    # A state (recall, birthday) rather than an event: evaluated once a day by its own job, and
    # turning it on asks whether the people matching already should start.
    state_based: bool = False

    @property
    def timing_hint(self) -> str:
        """What the editor's timing means for this trigger."""
        return self.timing_hint_text or f"How long after {self.event_phrase}; 0 sends straight away."

    def phrase(self, require_arrived: bool) -> str:
        """The event in words, e.g. "a cancellation"."""
        if require_arrived and self.event_phrase_arrived:
            return self.event_phrase_arrived
        return self.event_phrase


def candidates(spec: AutomationSpec) -> Any:
    """Appointments of contacts that pass the filters and have no send of this trigger yet (a
    journey: no enrolment yet)."""
    already: Any = (
        select(AutomationSend.id)
        .where(
            AutomationSend.automation_id == spec.id,
            AutomationSend.appointment_id == Appointment.id,
            AutomationSend.trigger_key == spec.trigger_key,
        )
        .correlate(Appointment)
    )
    if spec.journey_version_id is not None:
        already = (
            select(JourneyEnrolment.id)
            .where(JourneyEnrolment.automation_id == spec.id,
                   JourneyEnrolment.appointment_id == Appointment.id)
            .correlate(Appointment)
        )
    query = select(*_COLUMNS).where(
        Appointment.contact_id.is_not(None), Appointment.archived_at.is_(None), ~exists(already)
    )
    if spec.appointment_type_ids:
        query = query.where(Appointment.appointment_type_id.in_(sorted(spec.appointment_type_ids)))
    if spec.practitioner_ids:
        query = query.where(Appointment.practitioner_id.in_(sorted(spec.practitioner_ids)))
    return query


def event_finder(
    event: Callable[[], Any], conditions: Callable[[AutomationSpec, datetime], list[Any]]
) -> Finder:
    """A finder for a trigger dated by an event (a column or expression) and sent after it.

    conditions(spec, lower_due) narrows the appointments; lower_due is the earliest due time
    this pass looks at.
    """

    def find(session: Session, spec: AutomationSpec, now: datetime, quiet: QuietRule) -> Iterable[Firing]:
        # Quiet hours only move reminders; a follow-up waits for them at send time.
        assert spec.cutoff is not None
        cutoff, offset = spec.cutoff, spec.offset
        since = spec.planned_through or cutoff
        # Due in (lower_due, now]: at least LATE_LIMIT back, further after an outage (logged as too late).
        lower_due = min(since, now - LATE_LIMIT)
        lower_event = max(cutoff, lower_due - offset)
        when = event()
        query = candidates(spec).add_columns(when.label("event_at")).where(
            and_(*conditions(spec, lower_due)), when >= lower_event, when <= now - offset
        )
        for row in session.execute(query.execution_options(yield_per=2000)):
            event_at = aware(row.event_at)
            if event_at < cutoff:
                continue
            due = event_at + offset
            skip = Reason.TOO_LATE if due < now - LATE_LIMIT else None
            yield Firing(row.id, row.contact_id, event_at, due, skip)

    return find


def aware(value: Any) -> datetime:
    """A UTC-aware datetime from what the database handed back."""
    # coalesce() loses the column type on SQLite, which then hands back text or a naive datetime.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    result = UTCDateTime().process_result_value(value, None)
    assert result is not None
    return result


def still_booked_and_ahead(
    spec: AutomationSpec, appointment: Appointment, now: datetime, quiet: ChannelQuiet
) -> Verdict:
    """A qualifier for news about a booking: not once it is cancelled or has started."""
    if appointment.cancelled_at is not None:
        return skip(Reason.CANCELLED)
    if appointment.starts_at <= now:
        return skip(Reason.ALREADY_STARTED)
    return SEND
