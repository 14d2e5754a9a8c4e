"""The clinic's Net Promoter Score per month, from the feedback patients gave through their links.

NPS = % promoters (9-10) minus % detractors (0-6), from -100 to 100; passives (7-8) count in the
responses only. A response counts in the month (clinic time) it was first given, with its latest score.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from oncord.models import FeedbackResponse

MONTHS = 6


@dataclass(frozen=True)
class Month:
    """One month's responses, from `start` (clinic time, as UTC)."""

    start: datetime
    promoters: int = 0
    passives: int = 0
    detractors: int = 0

    @property
    def responses(self) -> int:
        """Everyone who answered."""
        return self.promoters + self.passives + self.detractors

    @property
    def score(self) -> int | None:
        """The NPS, rounded; None with no responses (no score is not a score of 0)."""
        if not self.responses:
            return None
        return round(100 * (self.promoters - self.detractors) / self.responses)


def month_starts(now: datetime, time_zone: str, months: int = MONTHS) -> list[datetime]:
    """First-of-month midnights (clinic time, as UTC) of the last `months` months and the next one."""
    zone = ZoneInfo(time_zone)
    today = now.astimezone(zone).date()
    index = today.year * 12 + today.month - 1
    first = index - months + 1
    days = [date((first + i) // 12, (first + i) % 12 + 1, 1) for i in range(months + 1)]
    return [datetime.combine(day, time(0), zone).astimezone(ZoneInfo("UTC")) for day in days]


def monthly_nps(session: Session, now: datetime, time_zone: str, months: int = MONTHS) -> list[Month]:
    """Promoters, passives and detractors per month, oldest first."""
    bounds = month_starts(now, time_zone, months)
    month = case(*((FeedbackResponse.responded_at < bounds[i + 1], i) for i in range(months)))
    group = case((FeedbackResponse.score >= 9, "promoters"), (FeedbackResponse.score >= 7, "passives"),
                 else_="detractors")
    rows = session.execute(
        select(month, group, func.count())
        .where(FeedbackResponse.responded_at >= bounds[0], FeedbackResponse.responded_at < bounds[-1])
        .group_by(month, group)
    ).all()
    tallies: dict[int, dict[str, int]] = {i: {} for i in range(months)}
    for index, kind, count in rows:
        if index is not None:
            tallies[int(index)][kind] = count
    return [Month(start=bounds[i], **tallies[i]) for i in range(months)]


def overall(months: list[Month]) -> Month:
    """All the months' responses together (the headline figure)."""
    return Month(
        start=months[0].start,
        promoters=sum(m.promoters for m in months),
        passives=sum(m.passives for m in months),
        detractors=sum(m.detractors for m in months),
    )
