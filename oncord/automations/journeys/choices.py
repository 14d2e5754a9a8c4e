"""What the journey builder offers to choose from that lives in the database: appointment types."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from oncord.models import AppointmentType


def appointment_types(session: Session) -> list[tuple[int, str]]:
    """Every synced appointment type as (id, name), by name; archived ones too, so a saved condition
    on one stays valid."""
    rows = session.execute(select(AppointmentType.id, AppointmentType.name).order_by(AppointmentType.name))
    return [(type_id, name) for type_id, name in rows]
