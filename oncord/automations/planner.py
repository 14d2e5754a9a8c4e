"""Planning: turn due triggers into send rows, once each, whoever plans at the same time.

Rows are only created once a message is due, so an appointment that moves before its reminder
time needs nothing: the reminder is simply planned at the new time. The unique key on
(automation, appointment, trigger, channel) makes a second planner's insert a no-op.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from oncord.automations.reasons import Reason
from oncord.automations.rules import DNA_MAX_AGE, LATE_LIMIT, AutomationSpec
from oncord.automations.status import add_outcome_events
from oncord.db import UTCDateTime, table_of
from oncord.models import Appointment, AppointmentKind, Automation, AutomationSend, SendState, Trigger

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


@dataclass
class PlanResult:
    """How many sends a planning pass created, by state."""

    pending: int = 0
    skipped: int = 0

    def add(self, other: PlanResult) -> None:
        """Sum another result into this one."""
        self.pending += other.pending
        self.skipped += other.skipped


@dataclass(frozen=True)
class Firing:
    """A trigger that fired for an appointment: send at due_at, or record a skip."""

    appointment_id: int
    contact_id: int
    event_at: datetime
    due_at: datetime
    skip: Reason | None = None


def plan(session: Session, spec: AutomationSpec, now: datetime) -> PlanResult:
    """Create the send rows that are due for one automation (the caller commits)."""
    if spec.cutoff is None or not spec.channels:
        return PlanResult()
    if spec.trigger == Trigger.UPCOMING:
        firings = list(_upcoming(session, spec, now))
    else:
        firings = list(_events(session, spec, now))
    result = _insert(session, spec, firings, now)
    session.execute(update(Automation).where(Automation.id == spec.id).values(planned_through=now))
    return result


def _base(spec: AutomationSpec) -> Any:
    already = (
        select(AutomationSend.id)
        .where(
            AutomationSend.automation_id == spec.id,
            AutomationSend.appointment_id == Appointment.id,
            AutomationSend.trigger_key == spec.trigger_key,
        )
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


def _upcoming(session: Session, spec: AutomationSpec, now: datetime) -> Iterable[Firing]:
    assert spec.cutoff is not None
    cutoff, offset = spec.cutoff, spec.offset
    since = spec.planned_through or cutoff
    # Due and still ahead, plus (after an outage) everything that fell due since the last pass.
    lower = min(since + offset, now)
    query = _base(spec).where(Appointment.starts_at > lower, Appointment.starts_at <= now + offset)
    for row in session.execute(query.execution_options(yield_per=2000)):
        due = row.starts_at - offset
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
            yield Firing(row.id, row.contact_id, due, due)


def _events(session: Session, spec: AutomationSpec, now: datetime) -> Iterable[Firing]:
    assert spec.cutoff is not None
    cutoff, offset = spec.cutoff, spec.offset
    since = spec.planned_through or cutoff
    # Due in (lower_due, now]: at least LATE_LIMIT back, further after an outage (logged as too late).
    lower_due = min(since, now - LATE_LIMIT)
    event: Any
    if spec.trigger == Trigger.CANCELLED:
        event = Appointment.cancelled_at
        conditions: list[Any] = [Appointment.cancelled_at.is_not(None)]
    elif spec.trigger == Trigger.DID_NOT_ARRIVE:
        event = func.coalesce(Appointment.cliniko_updated_at, Appointment.starts_at)
        conditions = [
            Appointment.did_not_arrive.is_(True),
            Appointment.cancelled_at.is_(None),
            Appointment.starts_at >= lower_due - offset - DNA_MAX_AGE,
        ]
    else:
        event = func.coalesce(Appointment.ends_at, Appointment.starts_at)
        conditions = [
            Appointment.cancelled_at.is_(None),
            or_(Appointment.did_not_arrive.is_(None), Appointment.did_not_arrive.is_(False)),
            # A class attendee still `arrived: false` when the class ends did not arrive, even
            # before the next pull records it so (oncord.sync.upsert_classes).
            or_(Appointment.kind != AppointmentKind.CLASS.value, Appointment.patient_arrived.is_not(False)),
        ]
        if spec.require_arrived:
            conditions.append(Appointment.patient_arrived.is_(True))
    lower_event = max(cutoff, lower_due - offset)
    query = _base(spec).add_columns(event.label("event_at")).where(
        and_(*conditions), event >= lower_event, event <= now - offset
    )
    for row in session.execute(query.execution_options(yield_per=2000)):
        event_at = _aware(row.event_at)
        if event_at < cutoff:
            continue
        due = event_at + offset
        skip = Reason.TOO_LATE if due < now - LATE_LIMIT else None
        yield Firing(row.id, row.contact_id, event_at, due, skip)


def _aware(value: Any) -> datetime:
    # coalesce() loses the column type on SQLite, which then hands back text or a naive datetime.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    result = UTCDateTime().process_result_value(value, None)
    assert result is not None
    return result


def _insert(session: Session, spec: AutomationSpec, firings: list[Firing], now: datetime) -> PlanResult:
    result = PlanResult()
    if not firings:
        return result
    rows = []
    for firing in firings:
        for channel in spec.channels:
            state = SendState.SKIPPED if firing.skip else SendState.PENDING
            rows.append(
                {
                    "automation_id": spec.id,
                    "appointment_id": firing.appointment_id,
                    "contact_id": firing.contact_id,
                    "trigger_key": spec.trigger_key,
                    "channel": channel,
                    "state": state.value,
                    "event_at": firing.event_at,
                    "due_at": firing.due_at,
                    "attempts": 0,
                    "reason": firing.skip.value if firing.skip else None,
                    "finished_at": now if firing.skip else None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    table = table_of(AutomationSend)
    inserted: list[Any] = []
    for start in range(0, len(rows), 1000):
        chunk = rows[start : start + 1000]
        statement = (
            _insert_for(session, table)
            .on_conflict_do_nothing()
            .returning(table.c.id, table.c.state, table.c.contact_id, table.c.appointment_id,
                       table.c.channel, table.c.reason)
        )
        inserted.extend(session.execute(statement, chunk).all())
    skipped = [row for row in inserted if row.state == SendState.SKIPPED]
    result.pending = len(inserted) - len(skipped)
    result.skipped = len(skipped)
    add_outcome_events(session, spec, skipped, now)
    return result


def _insert_for(session: Session, table: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
