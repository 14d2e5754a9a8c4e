"""The dispatcher: plan what fell due, recover stuck sends, and hand due sends to send jobs.

Safe to run on several workers at once: planning inserts are idempotent (unique key), and a
send moves from pending to queued with a compare-and-set that only one dispatcher wins.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from oncord.automations.journeys.runner import advance_all
from oncord.automations.planner import PlanResult, plan
from oncord.automations.rules import spec_of
from oncord.automations.spec import QuietRule
from oncord.automations.status import add_outcome_events
from oncord.automations.triggers import trigger_def
from oncord.clock import Clock
from oncord.config import Settings
from oncord.db import Database, table_of
from oncord.integration import active_connection
from oncord.messaging import quiet_hours
from oncord.messaging.pipeline import STUCK_MESSAGE
from oncord.messaging.pipeline import fail_stuck as fail_stuck_rows
from oncord.messaging.profile import SETTINGS_ID
from oncord.models import Appointment, Automation, AutomationSend, MessagingSettings, SendState
from oncord.timezones import account_time_zone

log = logging.getLogger(__name__)

__all__ = ["STUCK_MESSAGE", "dispatch", "fail_stuck", "queue_due"]

# A queued send whose job vanished (Redis flushed, job lost) is queued again after this long.
REQUEUE_AFTER = timedelta(minutes=10)
# A send claimed this long ago by a worker that never finished (it died mid-send) is failed:
# the provider may have taken it, so it is never sent again.
STUCK_AFTER = timedelta(minutes=30)


@dataclass
class DispatchResult:
    """What one dispatcher pass did."""

    planned: int = 0
    skipped: int = 0
    queued: int = 0
    batches: int = 0
    stuck: int = 0
    enrolled: int = 0
    steps: int = 0
    more_due: bool = False

    def as_dict(self) -> dict[str, int]:
        """For the job result and logs."""
        return dict(self.__dict__)


def plan_all(database: Database, now: datetime, settings: Settings | None = None, *,
             state_based: bool = False) -> PlanResult:
    """Plan every enabled automation on event triggers (state_based: on state triggers, which the
    daily job evaluates), committing each on its own."""
    total = PlanResult()
    with database.session() as session:
        connection = active_connection(session)
        if connection is None:
            return total
        automations = list(session.scalars(
            select(Automation).where(Automation.enabled.is_(True), Automation.deleted_at.is_(None))
        ))
        specs = [spec_of(a, connection) for a in automations
                 if trigger_def(a.trigger).state_based == state_based]
        quiet = QuietRule(quiet_hours.effective(session.get(MessagingSettings, SETTINGS_ID)),
                          account_time_zone(connection, settings or Settings()))
        session.commit()
        for spec in specs:
            total.add(plan(session, spec, now, quiet=quiet))
            session.commit()
    return total


def fail_stuck(session: Session, now: datetime) -> int:
    """Fail sends left in `sending` by a worker that died (the caller commits)."""
    table = table_of(AutomationSend)
    rows = fail_stuck_rows(
        session, table, table.c.claimed_at < now - STUCK_AFTER, now,
        table.c.id, table.c.state, table.c.contact_id, table.c.appointment_id, table.c.channel,
        table.c.automation_id, table.c.reason, table.c.error,
    )
    by_automation: dict[int, list[object]] = {}
    for row in rows:
        by_automation.setdefault(row.automation_id, []).append(row)
    for automation_id, group in by_automation.items():
        automation = session.get(Automation, automation_id)
        if automation is not None:
            add_outcome_events(session, automation, group, now)
    return len(rows)


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(AutomationSend.state == SendState.PENDING.value, AutomationSend.due_at <= now),
        and_(AutomationSend.state == SendState.QUEUED.value, AutomationSend.queued_at < now - REQUEUE_AFTER),
    )


def queue_due(
    database: Database, now: datetime, batch_size: int, enqueue: Callable[[list[int]], None]
) -> tuple[int, int]:
    """Mark due sends queued in batches and enqueue one job per batch; return (sends, batches)."""
    table = table_of(AutomationSend)
    sends = batches = 0
    with database.session() as session:
        ids = list(
            session.scalars(
                select(AutomationSend.id)
                .where(_claimable(now))
                .order_by(AutomationSend.due_at, AutomationSend.id)
            )
        )
        session.commit()
        for start in range(0, len(ids), batch_size):
            chunk = ids[start : start + batch_size]
            won = sorted(
                session.scalars(
                    update(table)
                    .where(table.c.id.in_(chunk), _claimable(now))
                    .values(state=SendState.QUEUED.value, queued_at=now, updated_at=now)
                    .returning(table.c.id)
                )
            )
            session.commit()
            if won:
                # After the commit: the job must find its sends queued.
                enqueue(won)
                sends += len(won)
                batches += 1
    return sends, batches


def dispatch(
    database: Database,
    clock: Clock,
    *,
    batch_size: int,
    enqueue: Callable[[list[int]], None],
    settings: Settings | None = None,
    default_zone: str = "Australia/Melbourne",
) -> DispatchResult:
    """One pass: plan (and enrol), run due journey steps, fail stuck sends, queue what is due."""
    now = clock.now()
    planned = plan_all(database, now, settings)

    def zone_of(appointment: Appointment | None) -> str:
        business = appointment.business if appointment is not None else None
        return business.time_zone_identifier if business and business.time_zone_identifier else default_zone

    advanced = advance_all(database, now, zone_of)
    steps = advanced.ran
    with database.session() as session:
        stuck = fail_stuck(session, now)
        session.commit()
    sends, batches = queue_due(database, now, batch_size, enqueue)
    result = DispatchResult(planned.pending, planned.skipped, sends, batches, stuck, planned.enrolled, steps,
                            advanced.more_due)
    if sends or planned.pending or planned.skipped or stuck or planned.enrolled or steps:
        log.info("automations dispatch: %s", result.as_dict())
    return result
