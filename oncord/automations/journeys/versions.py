"""A journey's versions: the current one for new enrolments, a new one for each edit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oncord.automations.journeys.steps import Step, dump_steps, parse_steps
from oncord.models import JourneyVersion


def current_version(session: Session, automation_id: int) -> JourneyVersion | None:
    """The version new enrolments start on, or None: a one-message automation with no steps stored."""
    return session.scalars(
        select(JourneyVersion)
        .where(JourneyVersion.automation_id == automation_id)
        .order_by(JourneyVersion.number.desc())
        .limit(1)
    ).first()


def save_steps(session: Session, automation_id: int, steps: list[Step], now: datetime) -> JourneyVersion:
    """Write the steps as a new version (the caller commits); enrolments already running keep theirs."""
    latest = session.scalar(
        select(func.max(JourneyVersion.number)).where(JourneyVersion.automation_id == automation_id)
    )
    version = JourneyVersion(
        automation_id=automation_id, number=(latest or 0) + 1, steps=dump_steps(steps), created_at=now
    )
    session.add(version)
    session.flush()
    return version


def steps_of(version: JourneyVersion) -> list[Step]:
    """A version's steps."""
    return parse_steps(version.steps)
