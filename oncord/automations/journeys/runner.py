"""Running enrolments: enter contacts whose trigger fired, then run each one's due steps once.

Due enrolments are taken in batches, each locked in one transaction that also writes the step-run
rows of the steps it runs; their unique key (enrolment, step) means a second worker or a re-run of
the job inserts nothing and the step does not take effect again; a worker killed before the commit
leaves no trace, so the steps run again later, and once. A send step only writes an
automation send row: the message itself goes through the automation sender and the one
pipeline (consent, quiet hours, frequency cap, exactly-once) like every other automation message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from oncord.automations.journeys.conditions import (
    BatchFacts,
    booked_since_entering,
    holding,
    marketing_status,
)
from oncord.automations.journeys.steps import Step, StepKind
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
# Enrolments advanced per pass; when there were more, the pass has the next one queued at once
# (the dispatch job), so a backlog drains at the workers' speed, not one pass a minute.
PASS_LIMIT = 2000
# Enrolments locked and advanced per transaction: one query each for their rows, automations,
# appointments, contacts, "booked since" answers and each condition test met, one insert of
# step-run rows and one of sends.
BATCH_SIZE = 100

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


@dataclass(frozen=True)
class Advanced:
    """What one pass over the due enrolments did."""

    ran: int  # steps run
    more_due: bool  # it stopped at PASS_LIMIT having moved enrolments: another pass should follow now


def advance_all(database: Database, now: datetime, zone_of: ZoneOf) -> Advanced:
    """Run the due steps of every active enrolment that is due, up to PASS_LIMIT enrolments."""
    ran = taken = 0
    steps_by_version: dict[int, list[Step]] = {}  # versions never change (an edit makes a new one)
    stuck: set[int] = set()
    with database.session() as session:
        while taken < PASS_LIMIT:
            batch = _lock_due(session, min(BATCH_SIZE, PASS_LIMIT - taken), stuck, now)
            if not batch:
                session.rollback()
                break
            taken += len(batch)
            # One step of each enrolment per transaction, so a step done is kept when a later one
            # fails; those with another step due are locked again for the next.
            while batch:
                ran_now, again = _advance_round(session, batch, now, zone_of, steps_by_version, stuck)
                ran += ran_now
                session.commit()
                batch = _lock_due(session, len(again), stuck, now, again) if again else []
    # Those left stuck did not move: a pass full of them alone must not call the next.
    return Advanced(ran, more_due=taken >= PASS_LIMIT and taken > len(stuck))


def _lock_due(session: Session, limit: int, stuck: set[int], now: datetime,
              among: list[int] | None = None) -> list[JourneyEnrolment]:
    """Lock up to `limit` due active enrolments. One another worker holds is skipped, not waited for,
    so two workers' passes share the due enrolments instead of queueing behind each other
    (PostgreSQL; SQLite has one writer anyway)."""
    query = (
        select(JourneyEnrolment)
        .where(JourneyEnrolment.state == EnrolmentState.ACTIVE.value, JourneyEnrolment.next_run_at <= now)
        .order_by(JourneyEnrolment.next_run_at, JourneyEnrolment.id)
        .limit(limit)
        .with_for_update(skip_locked=True).execution_options(populate_existing=True)
    )
    if stuck:
        query = query.where(JourneyEnrolment.id.not_in(stuck))
    if among is not None:
        query = query.where(JourneyEnrolment.id.in_(among))
    return list(session.scalars(query))


def _advance_round(session: Session, batch: list[JourneyEnrolment], now: datetime, zone_of: ZoneOf,
                   steps_by_version: dict[int, list[Step]], stuck: set[int]) -> tuple[int, list[int]]:
    """Run the next step of each locked enrolment: the exit rules and conditions are answered for
    the whole batch, its step-run rows go in one insert, whose unique key (enrolment, step) keeps a
    step to one run, and only the steps whose row it wrote take effect (their sends in one more).
    Return how many ran and the enrolments with another step due (the caller commits)."""
    automations = _by_id(session, Automation, {e.automation_id for e in batch})
    missing = {e.version_id for e in batch} - steps_by_version.keys()
    if missing:
        for version in session.scalars(select(JourneyVersion).where(JourneyVersion.id.in_(missing))):
            steps_by_version[version.id] = steps_of(version)
    appointments = _by_id(session, Appointment, {e.appointment_id for e in batch if e.appointment_id})
    contacts = _by_id(session, Contact, {e.contact_id for e in batch if e.contact_id})
    booked = booked_since_entering(session, batch)
    due: list[tuple[JourneyEnrolment, int, Step, Appointment | None]] = []
    for enrolment in batch:
        steps = steps_by_version[enrolment.version_id]
        appointment = appointments.get(enrolment.appointment_id) if enrolment.appointment_id else None
        contact = contacts.get(enrolment.contact_id) if enrolment.contact_id else None
        index = enrolment.step_index
        reason = exit_reason(automations[enrolment.automation_id], enrolment, steps[index:], appointment,
                             contact, booked=enrolment.id in booked)
        if reason is not None or index >= len(steps):
            state = EnrolmentState.EXITED if reason else EnrolmentState.FINISHED
            _apply(enrolment, now, _ended(now, state, reason))
            continue
        due.append((enrolment, index, steps[index], appointment))
    if not due:
        return 0, []
    held = holding(BatchFacts(session, now, contacts, booked),
                   [(e, step) for e, _, step, _ in due if step.kind == StepKind.CONDITION])
    runs = [(enrolment, index, step, *_outcome(step, appointment, now, zone_of, enrolment.id in held))
            for enrolment, index, step, appointment in due]
    claimed = _claim_all(session, [(e.id, index, step, outcome) for e, index, step, outcome, _ in runs], now)
    ran, again, sends = 0, [], []
    for enrolment, index, step, _, changes in runs:
        if (enrolment.id, index) not in claimed:
            # Its step-run row is there already, yet the enrolment did not move on: leave it for a
            # look rather than take it again in this pass.
            log.warning("journey enrolment %s: step %s ran before", enrolment.id, index)
            stuck.add(enrolment.id)
            continue
        if step.kind == StepKind.SEND:
            sends.append(_send_row(automations[enrolment.automation_id], enrolment, step, index, now))
        _apply(enrolment, now, {"step_index": index + 1, **changes})
        ran += 1
        if enrolment.state == EnrolmentState.ACTIVE and enrolment.next_run_at <= now:
            again.append(enrolment.id)
    if sends:
        session.execute(_insert(session, table_of(AutomationSend)).on_conflict_do_nothing(), sends)
    return ran, again


def _by_id(session: Session, model: Any, ids: set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    query = select(model).where(model.id.in_(ids)).execution_options(populate_existing=True)
    return {row.id: row for row in session.scalars(query)}


def _apply(enrolment: JourneyEnrolment, now: datetime, changes: dict[str, Any]) -> None:
    enrolment.updated_at = now
    for name, value in changes.items():
        setattr(enrolment, name, value)


def _claim_all(
    session: Session, runs: list[tuple[int, int, Step, str]], now: datetime
) -> set[tuple[int, int]]:
    """Write the step-run rows; return the (enrolment, step) keys written (not there before)."""
    table = table_of(JourneyStepRun)
    rows = [{"enrolment_id": enrolment_id, "step_index": index, "kind": step.kind, "outcome": outcome,
             "ran_at": now} for enrolment_id, index, step, outcome in runs]
    # Many parameter sets to one statement (not .values(rows)), so it compiles once, not per batch.
    statement = _insert(session, table).on_conflict_do_nothing().returning(
        table.c.enrolment_id, table.c.step_index)
    return {(row.enrolment_id, row.step_index) for row in session.execute(statement, rows)}


def _outcome(step: Step, appointment: Appointment | None, now: datetime, zone_of: ZoneOf,
             holds: bool) -> tuple[str, dict[str, Any]]:
    """What one step does: its step-run outcome and the enrolment's other changes (holds: whether
    a condition step's test lets the contact carry on). A send step's message row is written once
    its step-run row is (the caller)."""
    if step.kind == StepKind.SEND:
        return "message queued", {}
    if step.kind == StepKind.WAIT:
        until = wait_until(step, now, zone_of(appointment))
        return f"waiting until {until:%Y-%m-%d %H:%M} UTC", {"next_run_at": until}
    if step.kind == StepKind.CONDITION:
        if holds:
            return "condition met", {}
        return "condition not met", _ended(now, EnrolmentState.EXITED, "condition_not_met")
    return "stopped", _ended(now, EnrolmentState.FINISHED, None)


def _ended(now: datetime, state: EnrolmentState, reason: str | None) -> dict[str, Any]:
    return {"state": state.value, "finished_at": now, "exit_reason": reason}


def _send_row(automation: Automation, enrolment: JourneyEnrolment, step: Step, index: int,
              now: datetime) -> dict[str, Any]:
    return {
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
    automation: Automation,
    enrolment: JourneyEnrolment,
    remaining: list[Step],
    appointment: Appointment | None,
    contact: Contact | None,
    *,
    booked: bool,
) -> str | None:
    """Why the enrolment ends before its next step, or None: the journey's exit rules (booked: whether
    the contact has booked since entering, answered for the batch by `booked_since_entering`)."""
    # Turning a journey off ends the journeys in progress, also those that only wake after it is on
    # again (it was switched on after they entered): switching on never back-fills.
    switched_on = automation.activated_at
    if not automation.enabled or (switched_on is not None and enrolment.created_at < switched_on):
        return "automation_off"
    if contact is None or contact.archived_at is not None:
        return "contact_archived"
    if enrolment.appointment_id is not None and (appointment is None or appointment.archived_at is not None):
        return "appointment_deleted"
    trigger = automation.trigger
    if trigger in EXIT_ON_CANCEL and appointment is not None and appointment.cancelled_at is not None:
        return "appointment_cancelled"
    if trigger in EXIT_ON_BOOKING and booked:
        return "booked"
    channels = {s.channel for s in remaining if s.kind == StepKind.SEND}
    if channels and all(marketing_status(contact, c) == MarketingStatus.UNSUBSCRIBED for c in channels):
        return "unsubscribed"
    return None


def _insert(session: Session, table: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
