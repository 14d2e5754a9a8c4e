"""Running enrolments: enter contacts whose trigger fired, then run each one's due steps once.

Each step runs inside one transaction with its step-run row, whose unique key (enrolment, step)
means a second worker or a re-run of the job inserts nothing and stops; a worker killed before the
commit leaves no trace, so the step runs again later, and once. A send step only writes an
automation send row: the message itself goes through the automation sender and the one
pipeline (consent, quiet hours, frequency cap, exactly-once) like every other automation message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from oncord.automations.journeys.steps import Step, StepKind, Test
from oncord.automations.journeys.versions import steps_of
from oncord.automations.spec import AutomationSpec
from oncord.automations.triggers import Firing
from oncord.db import Database, table_of
from oncord.models import (
    Appointment,
    Automation,
    AutomationSend,
    Contact,
    EnrolmentState,
    JourneyEnrolment,
    JourneyStepRun,
    JourneyVersion,
    MarketingStatus,
    SendState,
    Trigger,
)

log = logging.getLogger(__name__)

# Triggers whose journeys end when the patient books again (recall and follow-ups).
EXIT_ON_BOOKING = frozenset({Trigger.DID_NOT_ARRIVE, Trigger.CANCELLED, Trigger.FINISHED, Trigger.RECALL})
# Triggers whose journeys end when the appointment that started them is cancelled (reminders).
EXIT_ON_CANCEL = frozenset({Trigger.UPCOMING, Trigger.RESCHEDULED})
# Enrolments advanced per pass; the rest wait for the next minute's.
PASS_LIMIT = 2000

ZoneOf = Callable[[Appointment | None], str]


def enrol(
    session: Session, spec: AutomationSpec, version_id: int, firings: list[Firing], now: datetime
) -> int:
    """Enter the contacts of these firings on this version, once per once-key (the caller commits)."""
    rows = [
        {
            "automation_id": spec.id,
            "version_id": version_id,
            "appointment_id": f.appointment_id,
            "contact_id": f.contact_id,
            "once_key": f.enrolment_key,
            "state": EnrolmentState.ACTIVE.value,
            "step_index": 0,
            "next_run_at": f.due_at,
            "entered_at": f.event_at,
            "created_at": now,
            "updated_at": now,
        }
        for f in firings
        if f.skip is None
    ]
    if not rows:
        return 0
    table = table_of(JourneyEnrolment)
    statement = _insert(session, table).on_conflict_do_nothing().returning(table.c.id)
    return len(session.execute(statement, rows).all())


def advance_all(database: Database, now: datetime, zone_of: ZoneOf) -> int:
    """Run the due steps of every active enrolment that is due; return how many steps ran."""
    with database.session() as session:
        ids = list(session.scalars(
            select(JourneyEnrolment.id)
            .where(JourneyEnrolment.state == EnrolmentState.ACTIVE.value, JourneyEnrolment.next_run_at <= now)
            .order_by(JourneyEnrolment.next_run_at, JourneyEnrolment.id)
            .limit(PASS_LIMIT)
        ))
        session.commit()
        ran = 0
        for enrolment_id in ids:
            ran += advance(session, enrolment_id, now, zone_of)
    return ran


def advance(session: Session, enrolment_id: int, now: datetime, zone_of: ZoneOf) -> int:
    """Run one enrolment's due steps, committing each with its step-run row; return how many ran."""
    ran = 0
    while True:
        # Locked for this step's transaction; one another worker holds is skipped, not waited for, so
        # two workers' passes share the due enrolments instead of queueing behind each other (PostgreSQL;
        # SQLite has one writer anyway). The step-run key still keeps each step to one run.
        enrolment = session.scalars(
            select(JourneyEnrolment).where(JourneyEnrolment.id == enrolment_id)
            .with_for_update(skip_locked=True).execution_options(populate_existing=True)
        ).first()
        if enrolment is None or enrolment.state != EnrolmentState.ACTIVE or enrolment.next_run_at > now:
            session.rollback()
            return ran
        automation = session.get(Automation, enrolment.automation_id)
        version = session.get(JourneyVersion, enrolment.version_id)
        assert automation is not None and version is not None
        steps = steps_of(version)
        appointment = session.get(Appointment, enrolment.appointment_id)
        contact = session.get(Contact, enrolment.contact_id) if enrolment.contact_id else None
        index = enrolment.step_index
        reason = exit_reason(session, automation, enrolment, steps[index:], appointment, contact, now)
        if reason is not None or index >= len(steps):
            state = EnrolmentState.EXITED if reason else EnrolmentState.FINISHED
            _end(session, enrolment, now, state, reason)
            session.commit()
            return ran
        step = steps[index]
        if not _claim(session, enrolment.id, index, step, now):
            # Another worker (or an earlier run of this job) ran it; it moves the enrolment on.
            session.rollback()
            return ran
        changes = _run(session, automation, enrolment, step, index, appointment, contact, now, zone_of)
        moved = session.execute(
            update(JourneyEnrolment)
            .where(JourneyEnrolment.id == enrolment.id, JourneyEnrolment.step_index == index)
            .values(step_index=index + 1, updated_at=now, **changes)
            .returning(JourneyEnrolment.id)
        ).first()
        if moved is None:  # pragma: no cover - the step-run claim already excludes a second runner
            session.rollback()
            return ran
        session.commit()
        ran += 1


def _claim(session: Session, enrolment_id: int, index: int, step: Step, now: datetime) -> bool:
    table = table_of(JourneyStepRun)
    row = {"enrolment_id": enrolment_id, "step_index": index, "kind": step.kind, "outcome": "", "ran_at": now}
    statement = _insert(session, table).values(row).on_conflict_do_nothing().returning(table.c.id)
    return session.execute(statement).first() is not None


def _set_outcome(session: Session, enrolment_id: int, index: int, outcome: str) -> None:
    session.execute(
        update(JourneyStepRun)
        .where(JourneyStepRun.enrolment_id == enrolment_id, JourneyStepRun.step_index == index)
        .values(outcome=outcome)
    )


def _run(
    session: Session,
    automation: Automation,
    enrolment: JourneyEnrolment,
    step: Step,
    index: int,
    appointment: Appointment | None,
    contact: Contact | None,
    now: datetime,
    zone_of: ZoneOf,
) -> dict[str, Any]:
    """Do one step; return the enrolment's other changes."""
    if step.kind == StepKind.SEND:
        _insert_send(session, automation, enrolment, step, index, now)
        _set_outcome(session, enrolment.id, index, "message queued")
        return {}
    if step.kind == StepKind.WAIT:
        until = wait_until(step, now, zone_of(appointment))
        _set_outcome(session, enrolment.id, index, f"waiting until {until:%Y-%m-%d %H:%M} UTC")
        return {"next_run_at": until}
    if step.kind == StepKind.CONDITION:
        holds = condition_holds(session, step, enrolment, contact, now)
        _set_outcome(session, enrolment.id, index, "condition met" if holds else "condition not met")
        if holds:
            return {}
        return _ended(now, EnrolmentState.EXITED, "condition_not_met")
    _set_outcome(session, enrolment.id, index, "stopped")
    return _ended(now, EnrolmentState.FINISHED, None)


def _ended(now: datetime, state: EnrolmentState, reason: str | None) -> dict[str, Any]:
    return {"state": state.value, "finished_at": now, "exit_reason": reason}


def _end(session: Session, enrolment: JourneyEnrolment, now: datetime, state: EnrolmentState,
         reason: str | None) -> None:
    session.execute(
        update(JourneyEnrolment)
        .where(JourneyEnrolment.id == enrolment.id, JourneyEnrolment.state == EnrolmentState.ACTIVE.value)
        .values(updated_at=now, **_ended(now, state, reason))
    )


def _insert_send(session: Session, automation: Automation, enrolment: JourneyEnrolment, step: Step,
                 index: int, now: datetime) -> None:
    table = table_of(AutomationSend)
    row = {
        "automation_id": automation.id,
        "appointment_id": enrolment.appointment_id,
        "contact_id": enrolment.contact_id,
        # One send per (enrolment, step): an appointment's enrolment is once per appointment, so the
        # step number completes the firing key the sends table already has; a recall or birthday
        # enrolment shares its appointment with later ones, so its id goes in too.
        "trigger_key": _send_key(automation, enrolment, index),
        "channel": step.channel,
        "state": SendState.PENDING.value,
        "event_at": now,
        "due_at": now,
        "attempts": 0,
        "enrolment_id": enrolment.id,
        "step_index": index,
        "created_at": now,
        "updated_at": now,
    }
    session.execute(_insert(session, table).values(row).on_conflict_do_nothing())


def _send_key(automation: Automation, enrolment: JourneyEnrolment, index: int) -> str:
    if enrolment.once_key.startswith("appointment:"):
        return f"{automation.trigger}:step{index}"
    return f"{automation.trigger}:e{enrolment.id}:step{index}"


def wait_until(step: Step, now: datetime, zone: str) -> datetime:
    """When a wait step ends: after its minutes, then at the next at_time in the zone if it has one."""
    moment = now + timedelta(minutes=step.minutes)
    if not step.at_time:
        return moment
    hour, minute = (int(part) for part in step.at_time.split(":"))
    local = moment.astimezone(ZoneInfo(zone))
    target = datetime.combine(local.date(), time(hour, minute), tzinfo=local.tzinfo)
    if target < local:
        target = datetime.combine(local.date() + timedelta(days=1), time(hour, minute), tzinfo=local.tzinfo)
    return target.astimezone(now.tzinfo)


def exit_reason(
    session: Session,
    automation: Automation,
    enrolment: JourneyEnrolment,
    remaining: list[Step],
    appointment: Appointment | None,
    contact: Contact | None,
    now: datetime,
) -> str | None:
    """Why the enrolment ends before its next step, or None: the journey's exit rules."""
    # Turning a journey off ends the journeys in progress, also those that only wake after it is on
    # again (it was switched on after they entered): switching on never back-fills.
    switched_on = automation.activated_at
    if not automation.enabled or (switched_on is not None and enrolment.created_at < switched_on):
        return "automation_off"
    if contact is None or contact.archived_at is not None:
        return "contact_archived"
    if appointment is None or appointment.archived_at is not None:
        return "appointment_deleted"
    trigger = automation.trigger
    if trigger in EXIT_ON_CANCEL and appointment.cancelled_at is not None:
        return "appointment_cancelled"
    if trigger in EXIT_ON_BOOKING and _booked_since(session, enrolment, contact.id):
        return "booked"
    channels = {s.channel for s in remaining if s.kind == StepKind.SEND}
    if channels and all(_status(contact, c) == MarketingStatus.UNSUBSCRIBED for c in channels):
        return "unsubscribed"
    return None


def _status(contact: Contact, channel: str) -> str:
    return contact.email_marketing_status if channel == "email" else contact.sms_marketing_status


def _booked_since(session: Session, enrolment: JourneyEnrolment, contact_id: int) -> bool:
    return bool(session.scalar(select(exists(
        select(Appointment.id).where(
            Appointment.contact_id == contact_id,
            Appointment.id != enrolment.appointment_id,
            Appointment.cancelled_at.is_(None),
            Appointment.archived_at.is_(None),
            Appointment.cliniko_created_at >= enrolment.entered_at,
        )
    ))))


def condition_holds(
    session: Session, step: Step, enrolment: JourneyEnrolment, contact: Contact | None, now: datetime
) -> bool:
    """Whether a condition step lets the contact carry on."""
    if contact is None:
        return False
    if step.test == Test.FUTURE_BOOKING:
        result = bool(session.scalar(select(exists(select(Appointment.id).where(
            Appointment.contact_id == contact.id, Appointment.starts_at > now,
            Appointment.cancelled_at.is_(None), Appointment.archived_at.is_(None),
        )))))
    elif step.test == Test.BOOKED_SINCE_ENTERING:
        result = _booked_since(session, enrolment, contact.id)
    elif step.test == Test.MARKETING_STATUS:
        result = _status(contact, step.channel or "email") == step.status
    elif step.test == Test.APPOINTMENT_TYPE_SEEN:
        result = bool(session.scalar(select(exists(select(Appointment.id).where(
            Appointment.contact_id == contact.id, Appointment.appointment_type_id == step.appointment_type_id,
            Appointment.starts_at <= now, Appointment.cancelled_at.is_(None),
            Appointment.did_not_arrive.is_not(True),
        )))))
    else:  # pragma: no cover - steps are written by this package only
        raise ValueError(f"unknown condition {step.test!r}")
    return result != step.negate


def _insert(session: Session, table: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
