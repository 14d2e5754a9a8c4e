"""What the state triggers (recall, birthday) share: the months arithmetic, the clinic's day, and
which appointments count as a visit."""

from __future__ import annotations

import calendar
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from oncord.models import Appointment, JourneyEnrolment


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time `months` later (negative: earlier); a day the month lacks becomes its last."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def counts_as_visit(table: Any) -> Any:
    """An appointment that keeps a patient current: not cancelled, not deleted, not missed."""
    return and_(table.cancelled_at.is_(None), table.archived_at.is_(None), table.did_not_arrive.is_not(True))


def local_day(now: datetime, zone: str) -> date:
    """The clinic's calendar day at this moment."""
    return now.astimezone(ZoneInfo(zone)).date()


def day_start(day: date, zone: str) -> datetime:
    """The moment a calendar day starts in the zone."""
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone))


def taken_keys(session: Session, automation_id: int, prefix: str) -> set[str]:
    """The once-keys this automation's journey has already entered (entering them again is a no-op;
    leaving them out keeps "N patients match now" honest)."""
    return set(session.scalars(
        select(JourneyEnrolment.once_key).where(
            JourneyEnrolment.automation_id == automation_id, JourneyEnrolment.once_key.startswith(prefix)
        )
    ))


def latest_appointment() -> Any:
    """The contact's latest appointment that is not deleted (a birthday message's context)."""
    return (
        select(Appointment.id)
        .where(Appointment.archived_at.is_(None))
        .order_by(Appointment.starts_at.desc(), Appointment.id.desc())
        .limit(1)
    )
