"""Store one page of Cliniko individual appointments (no commit; the pull commits per page)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from oncord.db import one_of, table_of
from oncord.models import ActivityEvent, Appointment, AppointmentKind, Contact
from oncord.sync.activity import appointment_event_rows, record_appointment_events
from oncord.sync.bulk import can_copy, copy_new_rows, insert_returning_ids, update_by_id
from oncord.sync.reference import ReferenceIds
from oncord.sync.upsert_patients import PageCounts


def upsert_appointments(
    session: Session, appointments: Sequence[Any], refs: ReferenceIds, now: datetime
) -> PageCounts:
    """Create or update these appointments and add their activity-feed entries."""
    counts = PageCounts(fetched=len(appointments))
    if not appointments:
        return counts
    table = table_of(Appointment)
    by_id = {a.id: a for a in appointments}
    existing = {
        row.cliniko_id: row
        for row in session.execute(
            select(
                table.c.id, table.c.cliniko_id, table.c.cliniko_updated_at, table.c.contact_id,
                table.c.starts_at,
            ).where(
                table.c.kind == AppointmentKind.INDIVIDUAL.value, one_of(session, table.c.cliniko_id, by_id)
            )
        )
    }
    patient_ids = {a.patient_id for a in appointments if a.patient_id}
    # The IN filter excludes NULL patient ids, so every key is a str.
    contacts = {
        patient_id: contact_id
        for patient_id, contact_id in session.execute(
            select(Contact.cliniko_patient_id, Contact.id).where(
                one_of(session, Contact.cliniko_patient_id, patient_ids)
            )
        ).all()
        if patient_id is not None
    }
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for appointment in by_id.values():
        row = existing.get(appointment.id)
        if row is not None and row.cliniko_updated_at == appointment.updated_at:
            counts.unchanged += 1
            continue
        values = _columns(appointment, refs, contacts)
        if row is None:
            inserts.append(values)
            counts.created += 1
        else:
            updates.append({**values, **_moved(row, appointment, now), "id": row.id})
            counts.updated += 1
    update_by_id(session, table, updates)
    if can_copy(session):
        for values, new_id in zip(inserts, copy_new_rows(session, table, inserts), strict=True):
            values["id"] = new_id
        # New appointments cannot have feed entries yet, so theirs can be streamed as well.
        copy_new_rows(session, table_of(ActivityEvent), appointment_event_rows(inserts, now))
        record_appointment_events(session, updates, now)
        counts.created_ids = [values["id"] for values in inserts]
        return counts
    new_ids = insert_returning_ids(session, table, inserts, "cliniko_id")
    for values in inserts:
        values["id"] = new_ids[values["cliniko_id"]]
    record_appointment_events(session, [*inserts, *updates], now)
    counts.created_ids = [values["id"] for values in inserts]
    return counts


def _moved(row: Any, appointment: Any, now: datetime) -> dict[str, Any]:
    # A reschedule is only visible as a changed start: keep the one it replaced, dated by the
    # record's updated_at (an appointment seen for the first time never counts as moved).
    if appointment.starts_at is None or row.starts_at == appointment.starts_at:
        return {}
    return {"previous_starts_at": row.starts_at, "rescheduled_at": appointment.updated_at or now}


def _columns(appointment: Any, refs: ReferenceIds, contacts: dict[str, int]) -> dict[str, Any]:
    return {
        "cliniko_id": appointment.id,
        "cliniko_patient_id": appointment.patient_id,
        "contact_id": contacts.get(appointment.patient_id) if appointment.patient_id else None,
        "appointment_type_id": refs.appointment_types.get(appointment.appointment_type_id),
        "practitioner_id": refs.practitioners.get(appointment.practitioner_id),
        "business_id": refs.businesses.get(appointment.business_id),
        "starts_at": appointment.starts_at,
        "ends_at": appointment.ends_at,
        "patient_arrived": appointment.patient_arrived,
        "did_not_arrive": appointment.did_not_arrive,
        "cancelled_at": appointment.cancelled_at,
        "cancellation_reason": appointment.cancellation_reason,
        "cancellation_reason_description": appointment.cancellation_reason_description or None,
        "cancellation_note": appointment.cancellation_note,
        "archived_at": appointment.archived_at,
        "cliniko_created_at": appointment.created_at,
        "cliniko_updated_at": appointment.updated_at,
        "booked_online": appointment.booked_online,
    }
