"""The activity feed shown on each contact's page."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from oncord.db import Base


class ActivityKind(enum.StrEnum):
    """What happened."""

    APPOINTMENT_BOOKED = "appointment_booked"
    APPOINTMENT_ARRIVED = "appointment_arrived"
    APPOINTMENT_CANCELLED = "appointment_cancelled"
    APPOINTMENT_DID_NOT_ARRIVE = "appointment_did_not_arrive"
    APPOINTMENT_FINISHED = "appointment_finished"
    # Its start moved (details: from, to); one entry per new start.
    APPOINTMENT_RESCHEDULED = "appointment_rescheduled"
    EMAIL_SENT = "email_sent"
    SMS_SENT = "sms_sent"
    # An automation's message that was not sent (details: channel, reason) or failed (error).
    MESSAGE_SKIPPED = "message_skipped"
    MESSAGE_FAILED = "message_failed"
    CONSENT_CHANGED = "consent_changed"
    # A feedback score given through a message's link (details: score, message); one per message.
    FEEDBACK_GIVEN = "feedback_given"


class ActivityEvent(Base):
    """One entry of a contact's feed; dedupe_key makes repeated syncs add nothing."""

    __tablename__ = "activity_events"
    __table_args__ = (Index("ix_activity_events_contact_time", "contact_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime]
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), index=True
    )
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
