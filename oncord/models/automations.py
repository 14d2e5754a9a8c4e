"""Automations (an appointment trigger plus messages) and their sends, one row per message."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from oncord.db import Base
from oncord.models.appointments import AppointmentType, Practitioner


class Trigger(enum.StrEnum):
    """What an automation reacts to: the stored values (the CHECK below); what each one means, its
    query and rules live in its entry in oncord.automations.triggers."""

    UPCOMING = "upcoming"
    CANCELLED = "cancelled"
    DID_NOT_ARRIVE = "did_not_arrive"
    FINISHED = "finished"
    RESCHEDULED = "rescheduled"
    FIRST_APPOINTMENT = "first_appointment"
    FEEDBACK_LOW = "feedback_low"
    BOOKED = "booked"
    RECALL = "recall"
    BIRTHDAY = "birthday"


class Backfill(enum.StrEnum):
    """What staff chose when turning on a journey whose trigger already matches people."""

    # Start the people who match now as well as new ones.
    ALL = "all"
    # Only people who come to match after it was turned on.
    NEW = "new"


class SendState(enum.StrEnum):
    """Where one message of one firing is."""

    # Waiting for its due time (first try, a retry, or the end of quiet hours).
    PENDING = "pending"
    # Handed to a send job.
    QUEUED = "queued"
    # A worker claimed it and is talking to the provider; never claimed twice.
    SENDING = "sending"
    SENT = "sent"
    SKIPPED = "skipped"
    FAILED = "failed"


class Channel(enum.StrEnum):
    """How a message travels."""

    EMAIL = "email"
    SMS = "sms"


FINAL_STATES = (SendState.SENT, SendState.SKIPPED, SendState.FAILED)

_TRIGGERS = ", ".join(f"'{t.value}'" for t in Trigger)
_STATES = ", ".join(f"'{s.value}'" for s in SendState)
_CHANNELS = ", ".join(f"'{c.value}'" for c in Channel)

automation_appointment_types = Table(
    "automation_appointment_types",
    Base.metadata,
    Column("automation_id", ForeignKey("automations.id", ondelete="CASCADE"), primary_key=True),
    Column("appointment_type_id", ForeignKey("appointment_types.id", ondelete="CASCADE"), primary_key=True),
)

automation_practitioners = Table(
    "automation_practitioners",
    Base.metadata,
    Column("automation_id", ForeignKey("automations.id", ondelete="CASCADE"), primary_key=True),
    Column("practitioner_id", ForeignKey("practitioners.id", ondelete="CASCADE"), primary_key=True),
)


class Automation(Base):
    """A trigger on synced appointments, optional filters, and an e-mail and/or SMS to send."""

    __tablename__ = "automations"
    __table_args__ = (
        CheckConstraint(f"trigger IN ({_TRIGGERS})", name="trigger"),
        CheckConstraint("offset_minutes >= 0", name="offset_minutes"),
        CheckConstraint("recall_months BETWEEN 1 AND 60", name="recall_months"),
        CheckConstraint("backfill IS NULL OR backfill IN ('all', 'new')", name="backfill"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(default=False)
    trigger: Mapped[str] = mapped_column(String(32))
    # Upcoming: how long before the start. Other triggers: how long after the event.
    offset_minutes: Mapped[int] = mapped_column(default=0)
    # Finished: only appointments marked arrived.
    require_arrived: Mapped[bool] = mapped_column(default=False)
    # Upcoming: an appointment booked after its reminder time still gets it at once.
    send_when_booked_late: Mapped[bool] = mapped_column(default=True)
    # A service message (appointment reminder) may go to Pending contacts; marketing only to Subscribed.
    is_service: Mapped[bool] = mapped_column(default=False)
    # Reminders: skip patients whose Cliniko reminder type says Cliniko reminds them itself.
    skip_cliniko_reminded: Mapped[bool] = mapped_column(default=False)
    send_email: Mapped[bool] = mapped_column(default=False)
    email_subject: Mapped[str] = mapped_column(String(500), default="")
    email_body: Mapped[str] = mapped_column(Text, default="")
    send_sms: Mapped[bool] = mapped_column(default=False)
    sms_body: Mapped[str] = mapped_column(Text, default="")
    # Appointment booked: only bookings made online.
    online_only: Mapped[bool] = mapped_column(default=False)
    # Recall: how many months without an appointment (and none booked) before a patient is due.
    recall_months: Mapped[int] = mapped_column(default=6)
    # A state trigger (recall, birthday) that matched people when turned on: the choice staff made
    # (a Backfill value) and how many matched then; None: never asked (nothing to back-fill).
    backfill: Mapped[str | None] = mapped_column(String(8))
    backfill_count: Mapped[int | None]
    # Nothing that happened before this moment fires (set each time the automation is turned on).
    activated_at: Mapped[datetime | None]
    # The dispatcher has looked at everything due up to here (catch-up after a worker outage).
    planned_through: Mapped[datetime | None]
    # Deleted by staff: gone from the list and never fires again, but its sends (the send log, the
    # once-only keys) stay, so the row does too.
    deleted_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    appointment_types: Mapped[list[AppointmentType]] = relationship(
        secondary=automation_appointment_types, lazy="selectin", order_by=AppointmentType.name
    )
    practitioners: Mapped[list[Practitioner]] = relationship(
        secondary=automation_practitioners, lazy="selectin", order_by=Practitioner.display_name
    )

    @property
    def channels(self) -> list[str]:
        """The channels this automation sends on."""
        return [c.value for c, on in ((Channel.EMAIL, self.send_email), (Channel.SMS, self.send_sms)) if on]


class AutomationSend(Base):
    """One message of one firing; the unique key makes each (automation, appointment, trigger,
    channel) send at most once, whichever worker or retry gets there."""

    __tablename__ = "automation_sends"
    __table_args__ = (
        UniqueConstraint(
            "automation_id", "appointment_id", "trigger_key", "channel", name="uq_automation_sends_firing"
        ),
        CheckConstraint(f"state IN ({_STATES})", name="state"),
        CheckConstraint(f"channel IN ({_CHANNELS})", name="channel"),
        Index("ix_automation_sends_state_due", "state", "due_at"),
        Index("ix_automation_sends_automation_id_desc", "automation_id", "id"),
        # The firing key treats NULLs as distinct: a send without an appointment (a birthday of a
        # contact who never had one) is once per trigger key, which names its enrolment and step.
        Index("uq_automation_sends_occasion", "automation_id", "trigger_key", "channel", unique=True,
              sqlite_where=text("appointment_id IS NULL"), postgresql_where=text("appointment_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    automation_id: Mapped[int] = mapped_column(ForeignKey("automations.id", ondelete="CASCADE"))
    # None for a send with no appointment behind it (a birthday of a contact who never had one).
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    trigger_key: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16))
    # When the trigger happened (cancellation, did-not-arrive, end) or the reminder time.
    event_at: Mapped[datetime | None]
    due_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    queued_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    sent_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # Why it was skipped (a reason code, see oncord.automations.reasons) or why it waits.
    reason: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    to_address: Mapped[str | None] = mapped_column(String(255))
    subject: Mapped[str | None] = mapped_column(String(500))
    body: Mapped[str | None] = mapped_column(Text)
    provider_message_id: Mapped[str | None] = mapped_column(String(255))
    # A journey's send step: its enrolment and step (the message text is that step's); else None.
    enrolment_id: Mapped[int | None] = mapped_column(
        ForeignKey("journey_enrolments.id", ondelete="CASCADE"), index=True
    )
    step_index: Mapped[int | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    automation: Mapped[Automation] = relationship(lazy="raise")
