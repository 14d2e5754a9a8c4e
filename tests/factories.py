"""Small helpers that add rows for web tests; each flushes and returns the row."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from oncord.accounts.users import create_user
from oncord.clock import Clock
from oncord.contacts.consent import ConsentActor
from oncord.contacts.phones import phone_columns, phone_region
from oncord.models import (
    ActivityEvent,
    Appointment,
    AppointmentType,
    ClinikoConnection,
    ConsentSource,
    Contact,
    Practitioner,
    SyncRun,
    User,
)

PASSWORD = "correct horse battery"
_ids = itertools.count(1000)


def _next_id() -> str:
    return str(next(_ids))


def make_user(session: Session, clock: Clock, *, email: str = "staff@clinic.example", admin: bool = False,
              password: str = PASSWORD, active: bool = True) -> User:
    """A user who can log in with PASSWORD."""
    user = create_user(session, email=email, password=password, role="admin" if admin else "staff",
                       clock=clock)
    user.active = active
    session.flush()
    return user


def staff_actor(name: str = "reception@clinic.example", *, admin: bool = False) -> ConsentActor:
    """A staff member changing consent, as the contact form passes one (no user row needed)."""
    return ConsentActor(ConsentSource.STAFF_EDIT, name=name, is_admin=admin)


def make_contact(session: Session, clock: Clock, **fields: Any) -> Contact:
    """A contact; pass cliniko_patient_id to link it."""
    now = clock.now()
    values: dict[str, Any] = {"first_name": "Ada", "last_name": "Lovelace", "email": None, "phone": None,
                              "created_at": now, "updated_at": now}
    values.update(fields)
    if "phone_e164" not in fields:
        # As the edit form and the pull store it.
        values.update(phone_columns(values["phone"], phone_region(values.get("country_code"), "AU")))
    contact = Contact(**values)
    session.add(contact)
    session.flush()
    return contact


def make_practitioner(session: Session, name: str = "Dr Jane Smith", **fields: Any) -> Practitioner:
    """A practitioner."""
    practitioner = Practitioner(cliniko_id=_next_id(), display_name=name, active=True, **fields)
    session.add(practitioner)
    session.flush()
    return practitioner


def make_appointment_type(session: Session, name: str = "Initial consultation") -> AppointmentType:
    """An appointment type."""
    kind = AppointmentType(cliniko_id=_next_id(), name=name, duration_in_minutes=45)
    session.add(kind)
    session.flush()
    return kind


def make_appointment(
    session: Session, contact: Contact | None, starts_at: datetime, **fields: Any
) -> Appointment:
    """An appointment for the contact, 45 minutes long unless told otherwise."""
    values: dict[str, Any] = {
        "cliniko_id": _next_id(),
        "contact_id": contact.id if contact else None,
        "cliniko_patient_id": contact.cliniko_patient_id if contact else None,
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(minutes=45),
    }
    values.update(fields)
    appointment = Appointment(**values)
    session.add(appointment)
    session.flush()
    return appointment


def make_event(session: Session, contact: Contact, kind: str, occurred_at: datetime, *,
               appointment: Appointment | None = None, **details: Any) -> ActivityEvent:
    """An activity-feed entry."""
    event = ActivityEvent(contact_id=contact.id, kind=kind, occurred_at=occurred_at,
                          appointment_id=appointment.id if appointment else None,
                          details=details, created_at=occurred_at)
    session.add(event)
    session.flush()
    return event


def make_connection(session: Session, clock: Clock, *, subdomain: str = "sunnyside", shard: str = "au1",
                    api_key_encrypted: str | None = "not-a-real-token", **fields: Any) -> ClinikoConnection:
    """A connected Cliniko account (the key is not usable; enough for screens)."""
    now = clock.now()
    values: dict[str, Any] = {"api_key_encrypted": api_key_encrypted, "shard": shard,
                              "account_subdomain": subdomain, "account_name": "Sunnyside Physio",
                              "user_name": "Pat Owner", "enabled_at": now, "created_at": now,
                              "updated_at": now}
    values.update(fields)
    connection = ClinikoConnection(**values)
    session.add(connection)
    session.flush()
    return connection


def make_sync_run(session: Session, clock: Clock, *, status: str = "succeeded", **fields: Any) -> SyncRun:
    """A sync run in the given state."""
    now = clock.now()
    values: dict[str, Any] = {"kind": "pull_incremental", "trigger": "manual", "status": status,
                              "queued_at": now, "counts": {}, "problems": []}
    if status in ("running", "succeeded", "partial", "failed"):
        values["started_at"] = now
    if status in ("succeeded", "partial", "failed"):
        values["finished_at"] = now
    values.update(fields)
    run = SyncRun(**values)
    session.add(run)
    session.flush()
    return run
