"""The outbox of local contact edits waiting to be pushed to Cliniko."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from oncord.db import Base


class ChangeStatus(enum.StrEnum):
    """Where a local edit is on its way to Cliniko."""

    PENDING = "pending"
    PUSHED = "pushed"
    # Cliniko refused the value (422); kept, with Cliniko's message, until staff fix it.
    FAILED = "failed"


class PatientChange(Base):
    """One edited field of a linked contact, written in the same transaction as the edit.

    There is at most one open (pending or failed) row per contact and field: a new edit
    moves changed_at, so the push always sends the value the contact has when it runs.
    """

    __tablename__ = "patient_changes"
    __table_args__ = (
        UniqueConstraint("contact_id", "field", "open_key", name="uq_patient_changes_open_change"),
        Index("ix_patient_changes_status_changed", "status", "changed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default=ChangeStatus.PENDING.value)
    # "open" while pending or failed, NULL once pushed: keeps one open row per field.
    open_key: Mapped[str | None] = mapped_column(String(8), default="open")
    first_changed_at: Mapped[datetime]
    changed_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    pushed_at: Mapped[datetime | None]
