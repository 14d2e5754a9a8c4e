"""Campaigns (a one-off e-mail or SMS to an audience) and one row per recipient.

The recipient row is what makes a campaign send at most once per contact: it is unique on
(campaign, contact), and a worker claims it (pending -> sending, committed) before it talks to
the provider, so a retried job, a restarted worker or a second worker never sends it again.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from oncord.db import Base


class CampaignState(enum.StrEnum):
    """Where a campaign is in its life."""

    DRAFT = "draft"
    # Waiting for its time (or, for "send now", for a worker to pick it up).
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    SENT = "sent"


class RecipientState(enum.StrEnum):
    """Where one recipient's message is."""

    PENDING = "pending"
    # Claimed by a worker that is handing it over; never claimed twice.
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    # Not sent on purpose: consent or address changed after the audience was taken.
    SKIPPED = "skipped"
    # The campaign was cancelled before this one went.
    CANCELLED = "cancelled"


_CAMPAIGN_STATES = ", ".join(f"'{s.value}'" for s in CampaignState)
_RECIPIENT_STATES = ", ".join(f"'{s.value}'" for s in RecipientState)


class Campaign(Base):
    """A one-off message on one channel to the contacts its audience conditions match."""

    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint(f"state IN ({_CAMPAIGN_STATES})", name="state"),
        CheckConstraint("channel IN ('email', 'sms')", name="channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16), default=CampaignState.DRAFT.value, index=True)
    # The audience conditions (oncord.campaigns.audience.Audience.to_json()).
    audience: Mapped[dict[str, Any]] = mapped_column(default=dict)
    email_subject: Mapped[str] = mapped_column(String(500), default="")
    email_body: Mapped[str] = mapped_column(Text, default="")
    sms_body: Mapped[str] = mapped_column(Text, default="")
    # When to start (UTC); "send now" sets it to the moment the button was pressed.
    scheduled_at: Mapped[datetime | None]
    # Each send, schedule or resume is a new round; its RQ job id includes it (deterministic per round).
    send_round: Mapped[int] = mapped_column(default=0)
    job_id: Mapped[str | None] = mapped_column(String(120))
    # Contacts the audience matched (and who could receive it) when sending started.
    recipients_total: Mapped[int | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    paused_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    # Sending waits for this moment (the channel's quiet hours, a retry of a temporary failure).
    waiting_until: Mapped[datetime | None]
    # Why sending stopped on its own (e.g. e-mail not set up), in words staff can act on.
    error: Mapped[str | None] = mapped_column(Text)
    # A sent or cancelled campaign taken off the list; its report and recipients are kept.
    archived_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CampaignRecipient(Base):
    """One contact's message of one campaign; unique per (campaign, contact)."""

    __tablename__ = "campaign_recipients"
    __table_args__ = (
        UniqueConstraint("campaign_id", "contact_id", name="uq_campaign_recipients_campaign_contact"),
        CheckConstraint(f"state IN ({_RECIPIENT_STATES})", name="state"),
        # The sender's next batch, the progress counts and the report's lists.
        Index("ix_campaign_recipients_campaign_state", "campaign_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=RecipientState.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    # A temporary failure waits until then before the next try.
    next_attempt_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    to_address: Mapped[str | None] = mapped_column(String(255))
    # A code for skipped and failed rows (see oncord.campaigns.sending.REASONS); error has the words.
    reason: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(Text)
    provider_message_id: Mapped[str | None] = mapped_column(String(255))
    sent_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # The contact unsubscribed from this campaign's message (its link, or an SMS STOP after it).
    unsubscribed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
