"""Booking attribution: clicks on a message's Book Now link, and bookings credited to a message.

A click row is one per message (unique on the campaign recipient or the automation send): mail
scanners follow links too, so every click is counted but the first click's time is kept. An
attribution row is one per appointment (unique), so a booking is credited at most once, either to
the message whose link was clicked ("clicked") or, kept apart, to the latest message delivered
before it ("after_message": booked after the message, no click on its link).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from oncord.db import Base


class AttributionKind(enum.StrEnum):
    """How a booking is tied to a message."""

    # The contact clicked the message's Book Now link, then booked online within the window.
    CLICKED = "clicked"
    # The message was delivered, then the contact booked within the window without a click.
    AFTER_MESSAGE = "after_message"


_ONE_MESSAGE = "(campaign_recipient_id IS NULL) <> (automation_send_id IS NULL)"


class BookingClick(Base):
    """The clicks on one message's Book Now link (first and last time, how many)."""

    __tablename__ = "booking_clicks"
    __table_args__ = (
        CheckConstraint(_ONE_MESSAGE, name="one_message"),
        CheckConstraint("channel IN ('email', 'sms')", name="channel"),
        # Attribution looks up a contact's clicks before a booking.
        Index("ix_booking_clicks_contact_clicked", "contact_id", "first_clicked_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_recipient_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign_recipients.id", ondelete="CASCADE"), unique=True)
    automation_send_id: Mapped[int | None] = mapped_column(
        ForeignKey("automation_sends.id", ondelete="CASCADE"), unique=True)
    # Copied from the message so reports group without joining both message tables.
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    automation_id: Mapped[int | None] = mapped_column(ForeignKey("automations.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(8))
    first_clicked_at: Mapped[datetime]
    last_clicked_at: Mapped[datetime]
    clicks: Mapped[int] = mapped_column(default=1)


class BookingAttribution(Base):
    """One appointment credited to one campaign's or journey's message; unique per appointment."""

    __tablename__ = "booking_attributions"
    __table_args__ = (
        CheckConstraint("kind IN ('clicked', 'after_message')", name="kind"),
        CheckConstraint("(campaign_id IS NULL) <> (automation_id IS NULL)", name="one_source"),
        Index("ix_booking_attributions_campaign", "campaign_id", "kind"),
        Index("ix_booking_attributions_automation", "automation_id", "kind"),
        Index("ix_booking_attributions_booked", "booked_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), unique=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    automation_id: Mapped[int | None] = mapped_column(ForeignKey("automations.id", ondelete="CASCADE"))
    campaign_recipient_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign_recipients.id", ondelete="SET NULL"))
    automation_send_id: Mapped[int | None] = mapped_column(
        ForeignKey("automation_sends.id", ondelete="SET NULL"))
    click_id: Mapped[int | None] = mapped_column(ForeignKey("booking_clicks.id", ondelete="SET NULL"))
    # The click (clicked) or the delivery (after_message) the booking is credited to.
    message_at: Mapped[datetime]
    # When the booking was made in Cliniko (the appointment's created_at).
    booked_at: Mapped[datetime]
    created_at: Mapped[datetime]
