"""Attributed bookings as staff read them: per campaign, per journey, and per week by source."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from oncord.dashboard.stats import WEEKS, week_starts
from oncord.models import AttributionKind, Automation, BookingAttribution, Campaign

CLICKED = AttributionKind.CLICKED.value
AFTER_MESSAGE = AttributionKind.AFTER_MESSAGE.value


@dataclass(frozen=True)
class Bookings:
    """Bookings attributed to one campaign's or journey's messages, and those made without a click."""

    attributed: int = 0
    # Booked within the window after a message was delivered, without a click on its link.
    after_message: int = 0


def _tally(session: Session, column: Any, ids: Sequence[int]) -> dict[int, Bookings]:
    counts: dict[int, dict[str, int]] = {i: {} for i in ids}
    if ids:
        rows = session.execute(
            select(column, BookingAttribution.kind, func.count())
            .where(column.in_(list(ids)))
            .group_by(column, BookingAttribution.kind)
        ).all()
        for source, kind, n in rows:
            counts[source][kind] = n
    return {i: Bookings(c.get(CLICKED, 0), c.get(AFTER_MESSAGE, 0)) for i, c in counts.items()}


def campaign_bookings(session: Session, campaign_id: int) -> Bookings:
    """One campaign's bookings."""
    return _tally(session, BookingAttribution.campaign_id, [campaign_id])[campaign_id]


def journey_bookings(session: Session, automation_id: int) -> Bookings:
    """One journey's (automation's) bookings."""
    return _tally(session, BookingAttribution.automation_id, [automation_id])[automation_id]


@dataclass(frozen=True)
class Source:
    """A campaign or journey and its attributed bookings per week, oldest week first."""

    name: str
    kind: str  # "Campaign" or "Journey"
    weekly: tuple[int, ...]

    @property
    def total(self) -> int:
        """All its bookings in the weeks shown."""
        return sum(self.weekly)


def weekly_by_source(
    session: Session, now: datetime, time_zone: str, weeks: int = WEEKS
) -> tuple[list[datetime], list[Source]]:
    """The weeks' Monday starts (clinic time) and each source's attributed bookings per week, most
    bookings first; a booking counts in the week it was made."""
    bounds = week_starts(now, time_zone, weeks)
    week = case(*((BookingAttribution.booked_at < bounds[i + 1], i) for i in range(weeks)))
    rows = session.execute(
        select(BookingAttribution.campaign_id, BookingAttribution.automation_id, week, func.count())
        .where(BookingAttribution.kind == CLICKED, BookingAttribution.booked_at >= bounds[0],
               BookingAttribution.booked_at < bounds[-1])
        .group_by(BookingAttribution.campaign_id, BookingAttribution.automation_id, week)
    ).all()
    tallies: dict[tuple[str, int], list[int]] = {}
    for campaign_id, automation_id, index, n in rows:
        key = ("Campaign", campaign_id) if campaign_id is not None else ("Journey", automation_id)
        tallies.setdefault(key, [0] * weeks)[int(index)] += n
    names = {
        **{("Campaign", i): name for i, name in session.execute(
            select(Campaign.id, Campaign.name).where(
                Campaign.id.in_([k[1] for k in tallies if k[0] == "Campaign"]))
        ).all()},
        **{("Journey", i): name for i, name in session.execute(
            select(Automation.id, Automation.name).where(
                Automation.id.in_([k[1] for k in tallies if k[0] == "Journey"]))
        ).all()},
    }
    sources = [Source(names.get(key, "(deleted)"), key[0], tuple(counts)) for key, counts in tallies.items()]
    sources.sort(key=lambda s: (-s.total, s.kind, s.name))
    return bounds[:-1], sources
