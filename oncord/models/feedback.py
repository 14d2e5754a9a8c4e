"""Patient feedback: the 0-10 "would you recommend us" score given through a message's link."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from oncord.db import Base


class FeedbackResponse(Base):
    """One message's answer. The unique message reference makes a second click update the score
    instead of counting twice, whichever request gets there first."""

    __tablename__ = "feedback_responses"
    __table_args__ = (CheckConstraint("score BETWEEN 0 AND 10", name="score"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The message that carried the link, e.g. "automation-send:42".
    message_ref: Mapped[str] = mapped_column(String(64), unique=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    # The appointment the message was about (an automation's message), which a low score's
    # follow-up journey enrols on; None for a message about no appointment.
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL"), index=True
    )
    score: Mapped[int]
    responded_at: Mapped[datetime] = mapped_column(index=True)
    # The last change of score (the low-score trigger dates its event from it).
    updated_at: Mapped[datetime] = mapped_column(index=True)
