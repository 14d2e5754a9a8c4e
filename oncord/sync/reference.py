"""Businesses, practitioners and appointment types: small lists stored whole each pull."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from oncord.models import AppointmentType, Business, Practitioner
from oncord.sync.bulk import insert_returning_ids, update_by_id
from oncord.sync.upsert_patients import PageCounts


@dataclass
class ReferenceIds:
    """Cliniko id -> local id for each reference list, to resolve appointment links."""

    businesses: dict[str, int] = field(default_factory=dict)
    practitioners: dict[str, int] = field(default_factory=dict)
    appointment_types: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> ReferenceIds:
        """Read the current maps from the database."""

        def ids(model: Any) -> dict[str, int]:
            return dict(session.execute(select(model.cliniko_id, model.id)).all())

        return cls(ids(Business), ids(Practitioner), ids(AppointmentType))


def business_columns(business: Any) -> dict[str, Any]:
    """Columns of a business."""
    return {
        "cliniko_id": business.id,
        "name": business.name,
        "time_zone_identifier": business.time_zone_identifier,
        "archived_at": business.archived_at,
        "cliniko_updated_at": business.updated_at,
    }


def practitioner_columns(practitioner: Any) -> dict[str, Any]:
    """Columns of a practitioner."""
    return {
        "cliniko_id": practitioner.id,
        "display_name": practitioner.display_name,
        "first_name": practitioner.first_name,
        "last_name": practitioner.last_name,
        "active": practitioner.active is not False,
        "cliniko_updated_at": practitioner.updated_at,
    }


def appointment_type_columns(appointment_type: Any) -> dict[str, Any]:
    """Columns of an appointment type."""
    return {
        "cliniko_id": appointment_type.id,
        "name": appointment_type.name,
        "category": appointment_type.category,
        "color": appointment_type.color,
        "duration_in_minutes": appointment_type.duration_in_minutes,
        "archived_at": appointment_type.archived_at,
        "cliniko_updated_at": appointment_type.updated_at,
    }


def upsert_reference(
    session: Session, model: Any, columns: Callable[[Any], dict[str, Any]], records: Sequence[Any]
) -> PageCounts:
    """Create or update one page of a reference list; only rows whose values differ count as updated.

    These lists are read whole (Cliniko has no updated_at filter for them), so most rows of
    most reads are the same as stored; those are left alone and counted unchanged.
    """
    counts = PageCounts(fetched=len(records))
    if not records:
        return counts
    table = model.__table__
    names = list(columns(records[0]))
    existing = {
        row.cliniko_id: row
        for row in session.execute(
            select(table.c.id, *(table.c[n] for n in names)).where(
                table.c.cliniko_id.in_([r.id for r in records])
            )
        )
    }
    inserts, updates = [], []
    for record in records:
        values = columns(record)
        row = existing.get(record.id)
        if row is None:
            inserts.append(values)
            counts.created += 1
        elif any(getattr(row, name) != value for name, value in values.items()):
            updates.append({**values, "id": row.id})
            counts.updated += 1
        else:
            counts.unchanged += 1
    update_by_id(session, table, updates)
    insert_returning_ids(session, table, inserts, "cliniko_id")
    return counts
