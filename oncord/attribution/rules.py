"""The attribution rule, applied when a pull stores new appointments (no commit: the pull commits).

A new booking (individual appointment or class attendance) made online within the window after its
contact first clicked a message's Book Now link is credited to that message; of several such
clicks, the latest wins. A new booking without such a click, made within the window after a
campaign or journey message was delivered to the contact, is counted apart as "booked after the
message, no click" (again the latest message wins). Each appointment is credited at most once: the
attributions table is unique on the appointment, and a row, once written, is never changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from oncord.config import Settings
from oncord.db import one_of, table_of
from oncord.models import (
    Appointment,
    AttributionKind,
    AutomationSend,
    BookingAttribution,
    BookingClick,
    CampaignRecipient,
    RecipientState,
    SendState,
)

# The configured default (ATTRIBUTION_WINDOW_DAYS), for callers that pass no window.
DEFAULT_WINDOW = timedelta(days=Settings.attribution_window_days)


@dataclass(frozen=True)
class _Candidate:
    """A click or a delivery that a booking could be credited to."""

    contact_id: int
    at: datetime
    campaign_id: int | None
    automation_id: int | None
    campaign_recipient_id: int | None
    automation_send_id: int | None
    click_id: int | None = None


def attribute_new_bookings(
    session: Session, appointment_ids: Sequence[int], now: datetime, window: timedelta = DEFAULT_WINDOW
) -> int:
    """Credit these newly stored appointments to messages by the rule above; how many were credited."""
    if not appointment_ids:
        return 0
    bookings = session.execute(
        select(Appointment.id, Appointment.contact_id, Appointment.cliniko_created_at,
               Appointment.booked_online)
        .where(one_of(session, Appointment.id, appointment_ids), Appointment.contact_id.is_not(None),
               Appointment.cliniko_created_at.is_not(None))
    ).all()
    if not bookings:
        return 0
    contacts = {b.contact_id for b in bookings}
    earliest = min(b.cliniko_created_at for b in bookings) - window
    latest = max(b.cliniko_created_at for b in bookings)
    clicks = _by_contact(_clicks(session, contacts, earliest, latest))
    deliveries = _by_contact(_deliveries(session, contacts, earliest, latest))
    rows: list[dict[str, Any]] = []
    for booking in bookings:
        booked = booking.cliniko_created_at
        kind, found = AttributionKind.CLICKED, None
        if booking.booked_online:  # a link leads to the online booking page, nowhere else
            found = _latest_within(clicks.get(booking.contact_id, []), booked, window)
        if found is None:
            kind = AttributionKind.AFTER_MESSAGE
            found = _latest_within(deliveries.get(booking.contact_id, []), booked, window)
        if found is None:
            continue
        rows.append({
            "appointment_id": booking.id, "contact_id": booking.contact_id, "kind": kind.value,
            "campaign_id": found.campaign_id, "automation_id": found.automation_id,
            "campaign_recipient_id": found.campaign_recipient_id,
            "automation_send_id": found.automation_send_id,
            "click_id": found.click_id, "message_at": found.at, "booked_at": booked, "created_at": now,
        })
    if rows:
        table = table_of(BookingAttribution)
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        insert = dialect.insert(table)
        # An appointment already credited (a page stored twice) keeps its first attribution.
        session.execute(insert.on_conflict_do_nothing(index_elements=["appointment_id"]), rows)
    return len(rows)


def _latest_within(candidates: list[_Candidate], booked: datetime, window: timedelta) -> _Candidate | None:
    # The message must come before the booking, and the booking within the window after it.
    eligible = [c for c in candidates if c.at <= booked < c.at + window]
    return max(eligible, key=lambda c: c.at, default=None)


def _by_contact(candidates: list[_Candidate]) -> dict[int, list[_Candidate]]:
    grouped: dict[int, list[_Candidate]] = {}
    for candidate in candidates:
        grouped.setdefault(candidate.contact_id, []).append(candidate)
    return grouped


def _clicks(session: Session, contacts: set[int], earliest: datetime, latest: datetime) -> list[_Candidate]:
    rows = session.execute(
        select(BookingClick).where(
            one_of(session, BookingClick.contact_id, contacts),
            BookingClick.first_clicked_at >= earliest,
            BookingClick.first_clicked_at <= latest,
        )
    ).scalars()
    return [_Candidate(c.contact_id, c.first_clicked_at, c.campaign_id, c.automation_id,
                       c.campaign_recipient_id, c.automation_send_id, click_id=c.id) for c in rows]


def _deliveries(
    session: Session, contacts: set[int], earliest: datetime, latest: datetime
) -> list[_Candidate]:
    campaign = session.execute(
        select(CampaignRecipient.id, CampaignRecipient.campaign_id, CampaignRecipient.contact_id,
               CampaignRecipient.sent_at)
        .where(one_of(session, CampaignRecipient.contact_id, contacts),
               CampaignRecipient.state == RecipientState.SENT.value,
               CampaignRecipient.sent_at >= earliest, CampaignRecipient.sent_at <= latest)
    ).all()
    automation = session.execute(
        select(AutomationSend.id, AutomationSend.automation_id, AutomationSend.contact_id,
               AutomationSend.sent_at)
        .where(one_of(session, AutomationSend.contact_id, contacts),
               AutomationSend.state == SendState.SENT.value,
               AutomationSend.sent_at >= earliest, AutomationSend.sent_at <= latest)
    ).all()
    return [
        *(_Candidate(r.contact_id, r.sent_at, r.campaign_id, None, r.id, None) for r in campaign),
        *(_Candidate(r.contact_id, r.sent_at, None, r.automation_id, None, r.id) for r in automation
          if r.contact_id is not None),
    ]
