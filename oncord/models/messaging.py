"""Messaging settings an admin edits (sender, quiet hours) and the demo outbox of sent messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String, Text
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
    updated_at: Mapped[datetime | None]


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
