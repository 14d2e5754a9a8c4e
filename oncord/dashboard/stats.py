"""Counts and the weekly appointments chart shown on the dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from oncord.models import Appointment, AutomationSend, CampaignRecipient, Contact, MarketingStatus

WEEKS = 12
OUTCOMES = ("attended", "cancelled", "did_not_arrive")


@dataclass(frozen=True)
class Counts:
    """The headline numbers."""

    contacts: int
    subscribed: int
    upcoming: int
    upcoming_week: int
    # Automation and campaign messages that failed in the last 7 days (each has its reason).
    failed_week: int = 0


@dataclass(frozen=True)
class Week:
    """One bar of the chart: appointments starting in the week from `start` (clinic time)."""

    start: datetime
    attended: int = 0
    cancelled: int = 0
    did_not_arrive: int = 0

    @property
    def total(self) -> int:
        """All three outcomes."""
        return self.attended + self.cancelled + self.did_not_arrive


def counts(session: Session, now: datetime) -> Counts:
    """Contacts (not archived), those subscribed on a channel, and upcoming appointments."""
    subscribed = MarketingStatus.SUBSCRIBED.value
    contacts, subscribed_count = session.execute(
        select(
            func.count(),
            func.count(
                case(
                    (or_(Contact.email_marketing_status == subscribed,
                         Contact.sms_marketing_status == subscribed), 1)
                )
            ),
        ).where(Contact.archived_at.is_(None))
    ).one()
    week_ahead = now + timedelta(days=7)
    upcoming, upcoming_week = session.execute(
        select(func.count(), func.count(case((Appointment.starts_at < week_ahead, 1)))).where(
            Appointment.starts_at >= now,
            Appointment.cancelled_at.is_(None),
            Appointment.archived_at.is_(None),
        )
    ).one()
    week_ago = now - timedelta(days=7)
    failed = sum(
        session.scalar(
            select(func.count())
            .select_from(table)
            .where(table.state == "failed", table.finished_at >= week_ago)
        ) or 0
        for table in (AutomationSend, CampaignRecipient)
    )
    return Counts(contacts=contacts, subscribed=subscribed_count, upcoming=upcoming,
                  upcoming_week=upcoming_week, failed_week=failed)


def week_starts(now: datetime, time_zone: str, weeks: int = WEEKS) -> list[datetime]:
    """Monday midnights (clinic time, as UTC) of the last `weeks` weeks and the one after them."""
    zone = ZoneInfo(time_zone)
    today = now.astimezone(zone).date()
    monday = today - timedelta(days=today.weekday())
    days = [monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks + 1)]
    # Built from local dates, so a daylight-saving change moves the boundary with the clinic.
    return [datetime.combine(day, time(0), zone).astimezone(ZoneInfo("UTC")) for day in days]


def weekly_outcomes(session: Session, now: datetime, time_zone: str, weeks: int = WEEKS) -> list[Week]:
    """Attended, cancelled and did-not-arrive appointments per week, oldest week first."""
    bounds = week_starts(now, time_zone, weeks)
    # The week number as a CASE over the boundaries: portable, and DST-correct.
    week = case(*((Appointment.starts_at < bounds[i + 1], i) for i in range(weeks)))
    outcome = case(
        (Appointment.cancelled_at.is_not(None), "cancelled"),
        (Appointment.did_not_arrive.is_(True), "did_not_arrive"),
        (Appointment.patient_arrived.is_(True), "attended"),
        else_="other",
    )
    rows = session.execute(
        select(week, outcome, func.count())
        .where(
            Appointment.starts_at >= bounds[0],
            Appointment.starts_at < bounds[-1],
            Appointment.archived_at.is_(None),
        )
        .group_by(week, outcome)
    ).all()
    tallies: dict[int, dict[str, int]] = {i: {} for i in range(weeks)}
    for index, kind, count in rows:
        if kind in OUTCOMES and index is not None:
            tallies[int(index)][kind] = count
    return [Week(start=bounds[i], **tallies[i]) for i in range(weeks)]
