"""Appointments and the Cliniko lists they refer to (types, practitioners, businesses)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from oncord.db import Base


class Business(Base):
    """A clinic location in Cliniko; carries the time zone appointments are shown in."""

    __tablename__ = "businesses"

    id: Mapped[int] = mapped_column(primary_key=True)
    cliniko_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    time_zone_identifier: Mapped[str | None] = mapped_column(String(64))
    archived_at: Mapped[datetime | None]
    cliniko_updated_at: Mapped[datetime | None]


class Practitioner(Base):
    """A practitioner appointments can be booked with."""

    __tablename__ = "practitioners"

    id: Mapped[int] = mapped_column(primary_key=True)
    cliniko_id: Mapped[str] = mapped_column(String(32), unique=True)
    display_name: Mapped[str] = mapped_column(String(255))
    first_name: Mapped[str | None] = mapped_column(String(255))
    last_name: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    cliniko_updated_at: Mapped[datetime | None]


class AppointmentType(Base):
    """A kind of appointment (e.g. "Initial consultation")."""

    __tablename__ = "appointment_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    cliniko_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    category: Mapped[str | None] = mapped_column(String(255))
    color: Mapped[str | None] = mapped_column(String(16))
    duration_in_minutes: Mapped[int | None]
    archived_at: Mapped[datetime | None]
    cliniko_updated_at: Mapped[datetime | None]


class AppointmentKind(StrEnum):
    """What an appointments row stands for in Cliniko."""

    INDIVIDUAL = "individual"  # an individual appointment; cliniko_id is its id
    CLASS = "class"  # one patient's attendance of a class; cliniko_id is the attendee's id


class GroupAppointment(Base):
    """A class (group appointment) in Cliniko; each attendee's booking is an appointments row."""

    __tablename__ = "group_appointments"

    id: Mapped[int] = mapped_column(primary_key=True)
    cliniko_id: Mapped[str] = mapped_column(String(32), unique=True)
    appointment_type_id: Mapped[int | None] = mapped_column(ForeignKey("appointment_types.id"))
    practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("practitioners.id"))
    business_id: Mapped[int | None] = mapped_column(ForeignKey("businesses.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    max_attendees: Mapped[int | None]
    archived_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    cliniko_created_at: Mapped[datetime | None]
    cliniko_updated_at: Mapped[datetime | None]


class Appointment(Base):
    """A booking pulled from Cliniko: an individual appointment or one attendee of a class.

    Class attendances live here, not in a table of their own, so every trigger, audience and
    screen that reads appointments sees them: type, practitioner, location and times come from
    the class, outcome and cancellation from the attendee.
    """

    __tablename__ = "appointments"
    __table_args__ = (
        # Cliniko numbers individual appointments and attendees separately.
        UniqueConstraint("kind", "cliniko_id", name="uq_appointments_kind_cliniko_id"),
        # Campaign audiences probe each contact's appointments with these filters (migration 0005):
        # carrying them in the index makes those probes index-only on PostgreSQL.
        Index("ix_appointments_contact_starts", "contact_id", "starts_at",
              postgresql_include=["cancelled_at", "archived_at", "did_not_arrive", "patient_arrived",
                                  "practitioner_id", "appointment_type_id", "business_id"]),
        Index("ix_appointments_practitioner_starts", "practitioner_id", "starts_at"),
        Index("ix_appointments_type_starts", "appointment_type_id", "starts_at"),
        # Covering indexes for the staff screens (migration 0002_contact_search): the contacts
        # list's "seen by" filter, and the dashboard's upcoming count and weekly outcomes chart
        # (its contact_id, from 0005, serves campaign audiences' "no appointment since ...").
        Index("ix_appointments_practitioner_contact", "practitioner_id", "contact_id", "cancelled_at"),
        Index("ix_appointments_starts_outcome", "starts_at", "cancelled_at", "archived_at",
              "did_not_arrive", "patient_arrived", postgresql_include=["contact_id"]),
        # The rescheduled trigger's planner looks for recent moves; few appointments ever move.
        Index("ix_appointments_rescheduled_at", "rescheduled_at",
              postgresql_where=text("rescheduled_at IS NOT NULL"),
              sqlite_where=text("rescheduled_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default=AppointmentKind.INDIVIDUAL.value,
                                      server_default=AppointmentKind.INDIVIDUAL.value)
    cliniko_id: Mapped[str] = mapped_column(String(32))
    group_appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("group_appointments.id", ondelete="CASCADE"), index=True
    )
    # Kept even when the patient is not (yet) a contact, so a later pull can link it.
    cliniko_patient_id: Mapped[str | None] = mapped_column(String(32), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    appointment_type_id: Mapped[int | None] = mapped_column(ForeignKey("appointment_types.id"))
    practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("practitioners.id"))
    business_id: Mapped[int | None] = mapped_column(ForeignKey("businesses.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime | None]
    patient_arrived: Mapped[bool | None]
    did_not_arrive: Mapped[bool | None]
    cancelled_at: Mapped[datetime | None]
    cancellation_reason: Mapped[int | None]
    cancellation_reason_description: Mapped[str | None] = mapped_column(String(255))
    cancellation_note: Mapped[str | None] = mapped_column(Text)
    archived_at: Mapped[datetime | None]
    cliniko_created_at: Mapped[datetime | None]
    cliniko_updated_at: Mapped[datetime | None] = mapped_column(index=True)
    # Cliniko shows a reschedule only as a changed starts_at: the pull keeps the start it replaced
    # and when it saw the move (the record's updated_at), for the feed and the rescheduled trigger.
    previous_starts_at: Mapped[datetime | None]
    rescheduled_at: Mapped[datetime | None]
    # Booked through Cliniko's online bookings: Cliniko has no flag for it, but only an online
    # booking carries booking_ip_address or online_booking_policy_accepted (the IP itself is not kept).
    booked_online: Mapped[bool] = mapped_column(default=False)

    appointment_type: Mapped[AppointmentType | None] = relationship(lazy="joined")
    practitioner: Mapped[Practitioner | None] = relationship(lazy="joined")
    business: Mapped[Business | None] = relationship(lazy="joined")

    @property
    def is_class(self) -> bool:
        """Whether this is a patient's place in a class (a group appointment's attendee)."""
        return self.kind == AppointmentKind.CLASS

    @property
    def outcome(self) -> str:
        """cancelled, did_not_arrive, arrived or booked."""
        if self.cancelled_at is not None:
            return "cancelled"
        if self.did_not_arrive:
            return "did_not_arrive"
        if self.patient_arrived:
            return "arrived"
        return "booked"
