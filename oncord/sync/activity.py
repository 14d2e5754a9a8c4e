"""Activity-feed entries derived from appointment state; the dedupe key makes them once-only."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, select
from sqlalchemy.orm import Session

from oncord.db import one_of, table_of
from oncord.models import ActivityEvent, ActivityKind, Appointment
from oncord.sync.bulk import insert_ignoring_duplicates


def appointment_events(appointment: Mapping[str, Any] | RowMapping, now: datetime) -> list[dict[str, Any]]:
    """The feed entries an appointment in this state should have (without contact/ids)."""
    events: list[tuple[ActivityKind, datetime | None]] = [
        (ActivityKind.APPOINTMENT_BOOKED, appointment.get("cliniko_created_at") or appointment["starts_at"])
    ]
    if appointment.get("previous_starts_at") is not None and appointment.get("rescheduled_at") is not None:
        events.append((ActivityKind.APPOINTMENT_RESCHEDULED, appointment["rescheduled_at"]))
    cancelled_at = appointment.get("cancelled_at")
    ends_at = appointment.get("ends_at") or appointment["starts_at"]
    if cancelled_at is not None:
        events.append((ActivityKind.APPOINTMENT_CANCELLED, cancelled_at))
    elif appointment.get("did_not_arrive"):
        events.append((ActivityKind.APPOINTMENT_DID_NOT_ARRIVE, appointment["starts_at"]))
    else:
        if appointment.get("patient_arrived"):
            events.append((ActivityKind.APPOINTMENT_ARRIVED, appointment["starts_at"]))
        if ends_at <= now:
            events.append((ActivityKind.APPOINTMENT_FINISHED, ends_at))
    return [{"kind": kind.value, "occurred_at": when} for kind, when in events]


def record_appointment_events(
    session: Session, appointments: Iterable[Mapping[str, Any]] | Sequence[RowMapping], now: datetime
) -> None:
    """Add the missing feed entries of these appointments (rows need id and contact_id)."""
    insert_ignoring_duplicates(session, table_of(ActivityEvent), appointment_event_rows(appointments, now))


def appointment_event_rows(
    appointments: Iterable[Mapping[str, Any]] | Sequence[RowMapping], now: datetime
) -> list[dict[str, Any]]:
    """The activity_events rows these appointments should have (rows need id and contact_id)."""
    rows: list[dict[str, Any]] = []
    for appointment in appointments:
        if appointment.get("contact_id") is None:
            continue
        details = {
            "starts_at": appointment["starts_at"].isoformat(),
            "appointment_type_id": appointment.get("appointment_type_id"),
            "practitioner_id": appointment.get("practitioner_id"),
        }
        for event in appointment_events(appointment, now):
            key = f"appointment:{appointment['id']}:{event['kind']}"
            these = details
            if event["kind"] == ActivityKind.APPOINTMENT_CANCELLED:
                these = {**details, "reason": appointment.get("cancellation_reason_description") or None}
            elif event["kind"] == ActivityKind.APPOINTMENT_RESCHEDULED:
                # One entry per move: keyed by the start it moved to.
                key = f"{key}:{appointment['starts_at'].isoformat()}"
                these = {**details, "from": appointment["previous_starts_at"].isoformat(),
                         "to": appointment["starts_at"].isoformat()}
            rows.append(
                {
                    **event,
                    "contact_id": appointment["contact_id"],
                    "appointment_id": appointment["id"],
                    "dedupe_key": key,
                    "details": these,
                    "created_at": now,
                }
            )
    return rows


def record_events_for_appointment_ids(session: Session, ids: list[int], now: datetime) -> None:
    """Add feed entries for appointments already stored (e.g. just linked to their contact)."""
    table = table_of(Appointment)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = session.execute(select(table).where(one_of(session, table.c.id, chunk))).mappings().all()
        record_appointment_events(session, rows, now)


def record_finished_since(session: Session, since: datetime | None, now: datetime) -> None:
    """Add "finished" entries for appointments that ended since the last pass, changed or not."""
    table = table_of(Appointment)
    query = select(table).where(
        table.c.contact_id.is_not(None),
        table.c.cancelled_at.is_(None),
        table.c.ends_at <= now,
    )
    if since is not None:
        query = query.where(table.c.ends_at > since)
    for partition in session.execute(query.execution_options(yield_per=1000)).mappings().partitions():
        record_appointment_events(session, partition, now)
