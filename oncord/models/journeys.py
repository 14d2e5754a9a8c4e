"""Journeys: an automation's versioned list of steps, the contacts enrolled in it, and each step run.

A version's steps never change once written: editing a journey writes a new version, so contacts
already enrolled finish on the steps they started with. The unique key on (enrolment, step)
makes each step run at most once per enrolment, whichever worker or re-run gets there.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from oncord.db import Base


class EnrolmentState(enum.StrEnum):
    """Where an enrolment is: running its steps, or done (to the end, or left early by a rule)."""

    ACTIVE = "active"
    FINISHED = "finished"
    EXITED = "exited"


_ENROLMENT_STATES = ", ".join(f"'{s.value}'" for s in EnrolmentState)


class JourneyVersion(Base):
    """One version of an automation's steps (a JSON list, see oncord.automations.journeys.steps)."""

    __tablename__ = "journey_versions"
    __table_args__ = (UniqueConstraint("automation_id", "number", name="uq_journey_versions_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    automation_id: Mapped[int] = mapped_column(ForeignKey("automations.id", ondelete="CASCADE"))
    number: Mapped[int]
    steps: Mapped[list[Any]]
    created_at: Mapped[datetime]


class JourneyEnrolment(Base):
    """One contact in one journey, entered by its trigger once per once_key."""

    __tablename__ = "journey_enrolments"
    __table_args__ = (
        UniqueConstraint("automation_id", "once_key", name="uq_journey_enrolments_once_key"),
        CheckConstraint(f"state IN ({_ENROLMENT_STATES})", name="state"),
        Index("ix_journey_enrolments_state_next_run_at", "state", "next_run_at"),
        Index("ix_journey_enrolments_automation_id_state", "automation_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    automation_id: Mapped[int] = mapped_column(ForeignKey("automations.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("journey_versions.id", ondelete="CASCADE"))
    # None when no appointment started it (a birthday of a contact who never had one).
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    # What enters a contact once: "appointment:<id>" for appointment triggers; a recall lapse is
    # "recall:<last visit id>" (a later visit, then a new lapse, is a new key); a birthday is
    # "birthday:<contact id>:<year>".
    once_key: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    # The next step to run (0-based); a wait that has started has moved it past itself.
    step_index: Mapped[int] = mapped_column(default=0)
    next_run_at: Mapped[datetime]
    # When the trigger's event happened: "booked since entering" counts bookings made after it.
    entered_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    # Why it ended early (an exit rule or a condition), e.g. "booked", "unsubscribed".
    exit_reason: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class JourneyStepRun(Base):
    """A step that ran for an enrolment, with what it did; at most one per (enrolment, step)."""

    __tablename__ = "journey_step_runs"
    __table_args__ = (UniqueConstraint("enrolment_id", "step_index", name="uq_journey_step_runs_step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("journey_enrolments.id", ondelete="CASCADE"))
    step_index: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(64))
    ran_at: Mapped[datetime]
