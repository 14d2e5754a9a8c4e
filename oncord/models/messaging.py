"""Messaging settings an admin edits (sender, quiet hours) and the demo outbox of sent messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from oncord.db import Base


class MessagingSettings(Base):
    """The clinic's sender identity and quiet hours: one row (id 1), edited in Settings → Messaging."""

    __tablename__ = "messaging_settings"
    __table_args__ = (
        CheckConstraint(
            "email_quiet_start IS NULL OR (email_quiet_start >= 0 AND email_quiet_start < 1440)",
            name="email_quiet_start",
        ),
        CheckConstraint(
            "email_quiet_end IS NULL OR (email_quiet_end >= 0 AND email_quiet_end < 1440)",
            name="email_quiet_end",
        ),
        CheckConstraint(
            "sms_quiet_start IS NULL OR (sms_quiet_start >= 0 AND sms_quiet_start < 1440)",
            name="sms_quiet_start",
        ),
        CheckConstraint(
            "sms_quiet_end IS NULL OR (sms_quiet_end >= 0 AND sms_quiet_end < 1440)",
            name="sms_quiet_end",
        ),
        CheckConstraint(
            "(frequency_cap_messages IS NULL AND frequency_cap_days IS NULL) OR "
            "(frequency_cap_messages BETWEEN 1 AND 100 AND frequency_cap_days BETWEEN 1 AND 365)",
            name="frequency_cap",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_name: Mapped[str | None] = mapped_column(String(255))
    sender_email: Mapped[str | None] = mapped_column(String(255))
    reply_to_email: Mapped[str | None] = mapped_column(String(255))
    # Sender identification the Spam Act asks for (e.g. address and phone), in every e-mail footer.
    sender_details: Mapped[str | None] = mapped_column(Text)
    # Quiet hours as minutes after local midnight; both set or both empty per channel.
    email_quiet_start: Mapped[int | None]
    email_quiet_end: Mapped[int | None]
    sms_quiet_start: Mapped[int | None]
    sms_quiet_end: Mapped[int | None]
    # An admin switched the channel's quiet hours off. Kept apart from empty times, which mean
    # "never set" and get the defaults (oncord.messaging.quiet_hours.DEFAULTS).
    email_quiet_off: Mapped[bool] = mapped_column(default=False, server_default=false())
    sms_quiet_off: Mapped[bool] = mapped_column(default=False, server_default=false())
    # At most this many marketing messages per contact (e-mail and SMS together) per rolling
    # window of this many days; both empty: no cap (the default).
    frequency_cap_messages: Mapped[int | None]
    frequency_cap_days: Mapped[int | None]
    updated_at: Mapped[datetime | None]


class FrequencySlot(Base):
    """One of a contact's N marketing-message slots under the frequency cap.

    A marketing message takes a free slot (never taken, or taken before the window) with a unique
    insert or a compare-and-set, in the transaction that claims the message, so two workers can
    never put more than N messages in one contact's window.
    """

    __tablename__ = "frequency_slots"
    __table_args__ = (UniqueConstraint("contact_id", "slot", name="uq_frequency_slots_contact_slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    slot: Mapped[int]
    # When the message holding it was claimed; None once released (the message was not sent).
    taken_at: Mapped[datetime | None]
    # The message holding it, e.g. "campaign-recipient:12".
    reference: Mapped[str | None] = mapped_column(String(64), index=True)


class OutboxMessage(Base):
    """A message the outbox backend "sent": the demo's stand-in for an SMTP server or SMS provider."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(8), index=True)
    to_address: Mapped[str] = mapped_column(String(255))
    from_address: Mapped[str | None] = mapped_column(String(255))
    subject: Mapped[str | None] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    # Who asked for it, e.g. "automation-send:42"; lets a test or a person trace it back.
    reference: Mapped[str | None] = mapped_column(String(120))
    segments: Mapped[int | None]
    created_at: Mapped[datetime]
