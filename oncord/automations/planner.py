"""Planning: turn due triggers into send rows, once each, whoever plans at the same time.

Which appointments are due is each trigger's own query (its registry entry's finder). Rows are
only created once a message is due, so an appointment that moves before its reminder time needs
nothing: the reminder is simply planned at the new time. The unique key on (automation,
appointment, trigger, channel) makes a second planner's insert a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from oncord.automations.journeys.runner import enrol
from oncord.automations.spec import NO_QUIET, AutomationSpec, QuietRule
from oncord.automations.status import add_outcome_events
from oncord.automations.triggers import Firing, trigger_def
from oncord.db import table_of
from oncord.models import Automation, AutomationSend, SendState


@dataclass
class PlanResult:
    """How many sends a planning pass created, by state."""

    pending: int = 0
    skipped: int = 0
    enrolled: int = 0

    def add(self, other: PlanResult) -> None:
        """Sum another result into this one."""
        self.pending += other.pending
        self.skipped += other.skipped
        self.enrolled += other.enrolled


def plan(session: Session, spec: AutomationSpec, now: datetime, *, quiet: QuietRule = NO_QUIET) -> PlanResult:
    """Create the send rows that are due for one automation (the caller commits); `quiet` are the
    quiet hours per channel, which bring a reminder forward, in its business's zone."""
    if spec.cutoff is None or not (spec.channels or spec.journey_version_id):
        return PlanResult()
    firings = list(trigger_def(spec.trigger).find(session, spec, now, quiet))
    if spec.journey_version_id is not None:
        # A journey enters the contact; its steps write the sends as they run.
        result = PlanResult(enrolled=enrol(session, spec, spec.journey_version_id, firings, now))
    else:
        result = _insert(session, spec, firings, now)
    session.execute(update(Automation).where(Automation.id == spec.id).values(planned_through=now))
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
                    # A recall or birthday firing is once per lapse or year, not per appointment.
                    "trigger_key": (f"{spec.trigger_key}:{firing.once_key}" if firing.once_key
                                    else spec.trigger_key),
                    "channel": channel,
                    "state": state.value,
                    "event_at": firing.event_at,
                    "due_at": (firing.channel_due or {}).get(channel, firing.due_at),
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
