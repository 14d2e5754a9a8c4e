"""Following a message's Book Now link: record the click once per message, then say where to go.

Mail scanners open links before the patient does, so every click is counted on the message's one
row (unique in the database) and the first click's time is never overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from oncord.bookings.urls import InvalidBookingsUrl, parse_bookings_url
from oncord.db import table_of
from oncord.integration import active_connection
from oncord.messaging.booking_links import MessageRef, destination
from oncord.messaging.profile import book_now_url
from oncord.models import Automation, AutomationSend, BookingClick, Campaign, CampaignRecipient


@dataclass(frozen=True)
class Clicked:
    """The message a link belongs to, as the redirect needs it."""

    medium: str
    campaign: str


def _message(session: Session, ref: MessageRef) -> tuple[dict[str, object], Clicked] | None:
    if ref.is_campaign:
        recipient = session.get(CampaignRecipient, ref.id)
        campaign = session.get(Campaign, recipient.campaign_id) if recipient is not None else None
        if recipient is None or campaign is None:
            return None
        return ({"campaign_recipient_id": recipient.id, "campaign_id": campaign.id,
                 "contact_id": recipient.contact_id, "channel": campaign.channel},
                Clicked(campaign.channel, campaign.name))
    send = session.get(AutomationSend, ref.id)
    automation = session.get(Automation, send.automation_id) if send is not None else None
    if send is None or automation is None or send.contact_id is None:
        return None
    return ({"automation_send_id": send.id, "automation_id": automation.id, "contact_id": send.contact_id,
             "channel": send.channel}, Clicked(send.channel, automation.name))


def record_click(session: Session, ref: MessageRef, now: datetime) -> Clicked | None:
    """Count a click on the message's link (the caller commits); None when the message is gone."""
    found = _message(session, ref)
    if found is None:
        return None
    values, clicked = found
    key = "campaign_recipient_id" if ref.is_campaign else "automation_send_id"
    if not _count_again(session, key, ref.id, now):
        table = table_of(BookingClick)
        statement = _insert(session, table).values(
            **values, first_clicked_at=now, last_clicked_at=now, clicks=1
        ).on_conflict_do_nothing().returning(table.c.id)
        if not session.execute(statement).all():
            # A second click (a scanner and the patient) made the row first: count this one on it.
            _count_again(session, key, ref.id, now)
    return clicked


def _insert(session: Session, table: Table) -> Any:
    # ON CONFLICT DO NOTHING is dialect-specific; both databases have it.
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _count_again(session: Session, key: str, message_id: int, now: datetime) -> bool:
    table = table_of(BookingClick)
    result = session.execute(
        update(table).where(table.c[key] == message_id)
        .values(clicks=table.c.clicks + 1, last_clicked_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


def bookings_address(session: Session) -> str | None:
    """The clinic's bookings address, checked again as a Cliniko bookings page (never anything else)."""
    try:
        url = book_now_url(session, active_connection(session))
    except ValueError:
        return None
    if not url:
        return None
    try:
        return parse_bookings_url(url).link_url
    except InvalidBookingsUrl:
        return None


def target(session: Session, clicked: Clicked | None, token: str) -> str | None:
    """Where the link leads: the clinic's bookings page with UTM parameters (None: no bookings page)."""
    address = bookings_address(session)
    if address is None:
        return None
    if clicked is None:
        return address
    return destination(address, medium=clicked.medium, campaign=clicked.campaign, token=token)
