"""Store pages of Cliniko classes and their attendees (no commit; the pull commits per page).

A class (group appointment) is kept in group_appointments; each attendee becomes one
appointments row of kind "class", so reminders, follow-ups, audiences and the feed read class
attendances exactly as they read individual appointments. The row takes its type,
practitioner, location and times from the class, and its outcome from the attendee.

Cliniko does not document how it marks an attendee who did not come. An attendee starts with
`arrived: false` and staff tick arrived, so `arrived: false` once the class has ended is read
as "did not arrive" (and `arrived: null`, an unticked arrival, as no outcome).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, and_, case, select, update
from sqlalchemy.orm import Session

from oncord.cliniko.payloads import Attendee
from oncord.cliniko.payloads import GroupAppointment as GroupRecord
from oncord.db import one_of, table_of
from oncord.models import Appointment, AppointmentKind, Contact, GroupAppointment
from oncord.sync.activity import record_appointment_events
from oncord.sync.bulk import insert_returning_ids, update_by_id
from oncord.sync.reference import ReferenceIds
from oncord.sync.upsert_patients import PageCounts

CLASS = AppointmentKind.CLASS.value
# What an attendance row copies from its class.
_FROM_CLASS = ("appointment_type_id", "practitioner_id", "business_id", "starts_at", "ends_at")


def upsert_group_appointments(
    session: Session, records: Sequence[GroupRecord], refs: ReferenceIds, now: datetime
) -> PageCounts:
    """Create or update these classes, and carry changes over to their attendees' rows."""
    counts = PageCounts(fetched=len(records))
    if not records:
        return counts
    table = table_of(GroupAppointment)
    existing = {
        row.cliniko_id: row
        for row in session.execute(
            select(table.c.id, table.c.cliniko_id, table.c.cliniko_updated_at, table.c.archived_at).where(
                one_of(session, table.c.cliniko_id, [r.id for r in records])
            )
        )
    }
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    was_archived: dict[int, datetime | None] = {}
    for record in records:
        row = existing.get(record.id)
        if row is not None and row.cliniko_updated_at == record.updated_at:
            counts.unchanged += 1
            continue
        values = {
            "cliniko_id": record.id,
            "appointment_type_id": _ref(refs.appointment_types, record.appointment_type_id),
            "practitioner_id": _ref(refs.practitioners, record.practitioner_id),
            "business_id": _ref(refs.businesses, record.business_id),
            "starts_at": record.starts_at,
            "ends_at": record.ends_at,
            "max_attendees": record.max_attendees,
            "archived_at": record.archived_at,
            "deleted_at": record.deleted_at,
            "cliniko_created_at": record.created_at,
            "cliniko_updated_at": record.updated_at,
        }
        if row is None:
            inserts.append(values)
            counts.created += 1
        else:
            updates.append({**values, "id": row.id})
            was_archived[row.id] = row.archived_at
            counts.updated += 1
    update_by_id(session, table, updates)
    insert_returning_ids(session, table, inserts, "cliniko_id")
    if updates:
        _carry_over(session, updates, was_archived, now)
    return counts


def _ref(ids: Mapping[str, int], cliniko_id: str | None) -> int | None:
    return None if cliniko_id is None else ids.get(cliniko_id)


def _carry_over(
    session: Session,
    classes: list[dict[str, Any]],
    was_archived: Mapping[int, datetime | None],
    now: datetime,
) -> None:
    """Give the attendance rows of changed classes their class's new time, people and state."""
    table = table_of(Appointment)
    by_id = {c["id"]: c for c in classes}
    rows = session.execute(
        select(table).where(one_of(session, table.c.group_appointment_id, list(by_id)))
    ).mappings().all()
    changed = []
    for row in rows:
        group = by_id[row["group_appointment_id"]]
        values = {name: group[name] for name in _FROM_CLASS}
        values.update(_outcome(row["patient_arrived"], row["cancelled_at"], group["ends_at"], now))
        values.update(_moved(row, group, now))
        if values["did_not_arrive"] and (row["cliniko_updated_at"] or group["ends_at"]) < group["ends_at"]:
            values["cliniko_updated_at"] = group["ends_at"]
        archived = row["archived_at"]
        if group["archived_at"] is not None:
            archived = archived or group["archived_at"]
        elif archived is not None and archived == was_archived.get(group["id"]):
            archived = None  # archived with its class, so unarchived with it too
        values["archived_at"] = archived
        changed.append({**values, "id": row["id"]})
    # Rows differ in whether they move cliniko_updated_at; update_by_id groups them by shape.
    update_by_id(session, table, changed)
    # The feed may need a new entry (e.g. a class moved into the past has now finished).
    merged = [{**row, **values} for row, values in zip(rows, changed, strict=True)]
    record_appointment_events(session, merged, now)


def _moved(row: Mapping[str, Any] | RowMapping, group: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """A class moved: its attendances keep the start they had, dated by the class's updated_at.

    As for individual appointments (upsert_appointments._moved), this is what the feed's
    "Rescheduled from … to …" and the rescheduled trigger read. A cancelled attendee is no longer
    coming, so the move is not theirs.
    """
    if row["starts_at"] == group["starts_at"] or row["cancelled_at"] is not None:
        return {}
    return {"previous_starts_at": row["starts_at"], "rescheduled_at": group["cliniko_updated_at"] or now}


def upsert_attendees(session: Session, records: Sequence[Attendee], now: datetime) -> PageCounts:
    """Store the class attendees among these; attendees of individual appointments are ignored.

    Cliniko's /attendees also lists one attendee per individual appointment, which the
    appointments listing already brought in; anything whose booking is not a known class is one.
    """
    counts = PageCounts(fetched=len(records))
    if not records:
        return counts
    groups_table = table_of(GroupAppointment)
    groups = {
        row["cliniko_id"]: row
        for row in session.execute(
            select(groups_table).where(
                one_of(session, groups_table.c.cliniko_id, {r.booking_id for r in records})
            )
        ).mappings()
    }
    attendees = [r for r in records if r.booking_id in groups]
    counts.ignored = len(records) - len(attendees)
    if not attendees:
        return counts
    table = table_of(Appointment)
    existing = {
        row.cliniko_id: row
        for row in session.execute(
            select(table.c.id, table.c.cliniko_id, table.c.cliniko_updated_at).where(
                table.c.kind == CLASS, one_of(session, table.c.cliniko_id, [a.id for a in attendees])
            )
        )
    }
    contacts = {
        patient_id: contact_id
        for patient_id, contact_id in session.execute(
            select(Contact.cliniko_patient_id, Contact.id).where(
                one_of(session, Contact.cliniko_patient_id, {a.patient_id for a in attendees})
            )
        ).all()
        if patient_id is not None
    }
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for attendee in attendees:
        values = attendance_columns(attendee, groups[attendee.booking_id], contacts, now)
        row = existing.get(attendee.id)
        if row is not None and row.cliniko_updated_at == values["cliniko_updated_at"]:
            counts.unchanged += 1
            continue
        if row is None:
            inserts.append(values)
            counts.created += 1
        else:
            updates.append({**values, "id": row.id})
            counts.updated += 1
    update_by_id(session, table, updates)
    new_ids = insert_returning_ids(session, table, inserts, "cliniko_id")
    for values in inserts:
        values["id"] = new_ids[values["cliniko_id"]]
    record_appointment_events(session, [*inserts, *updates], now)
    counts.created_ids = [values["id"] for values in inserts]
    return counts


def attendance_columns(
    attendee: Attendee, group: Mapping[str, Any] | RowMapping, contacts: Mapping[str, int], now: datetime
) -> dict[str, Any]:
    """The appointments row of one class attendee (its class as stored in group_appointments)."""
    outcome = _outcome(attendee.arrived, attendee.cancelled_at, group["ends_at"], now)
    updated = attendee.updated_at
    if outcome["did_not_arrive"] and group["ends_at"] > updated:
        # The did-not-arrive became true when the class ended, not when the attendee last changed.
        updated = group["ends_at"]
    return {
        "kind": CLASS,
        "cliniko_id": attendee.id,
        "group_appointment_id": group["id"],
        "cliniko_patient_id": attendee.patient_id,
        "contact_id": contacts.get(attendee.patient_id),
        **{name: group[name] for name in _FROM_CLASS},
        **outcome,
        "cancelled_at": attendee.cancelled_at,
        "cancellation_reason": attendee.cancellation_reason,
        "cancellation_reason_description": attendee.cancellation_reason_description or None,
        "cancellation_note": attendee.cancellation_note,
        "archived_at": attendee.archived_at or group["archived_at"],
        "cliniko_created_at": attendee.created_at,
        "cliniko_updated_at": updated,
        "booked_online": attendee.booked_online,
    }


def _outcome(
    arrived: bool | None, cancelled_at: datetime | None, ends_at: datetime, now: datetime
) -> dict[str, bool | None]:
    """patient_arrived is the attendee's `arrived` as sent; did_not_arrive follows from it."""
    if arrived is None:
        return {"patient_arrived": None, "did_not_arrive": None}
    missed = arrived is False and cancelled_at is None and ends_at <= now
    return {"patient_arrived": arrived, "did_not_arrive": missed}


def mark_missed_classes(session: Session, now: datetime) -> list[int]:
    """Turn class attendances that have ended with `arrived: false` into did-not-arrive; return their ids.

    The attendee itself does not change in Cliniko when the class ends, so no pull would see it.
    """
    table = table_of(Appointment)
    missed = and_(
        table.c.group_appointment_id.is_not(None),
        table.c.kind == CLASS,
        table.c.patient_arrived.is_(False),
        table.c.did_not_arrive.is_not(True),
        table.c.cancelled_at.is_(None),
        table.c.ends_at <= now,
    )
    ids = list(session.scalars(select(table.c.id).where(missed)))
    if ids:
        session.execute(
            update(table)
            .where(table.c.id.in_(ids))
            .values(
                did_not_arrive=True,
                cliniko_updated_at=case(
                    (table.c.cliniko_updated_at < table.c.ends_at, table.c.ends_at),
                    else_=table.c.cliniko_updated_at,
                ),
            )
        )
    return ids
