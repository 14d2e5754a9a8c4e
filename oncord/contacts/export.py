"""Export of every contact (and optionally their appointments), streamed, as JSON or CSV."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from itertools import groupby
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from oncord.csv_safe import SafeDictWriter
from oncord.db import table_of
from oncord.models import Appointment, AppointmentType, Contact, Practitioner
from oncord.sync.patient_fields import MARKETING_FIELDS, SYNCED_COLUMNS

CONTACT_FIELDS = ("id", "cliniko_patient_id", *SYNCED_COLUMNS, *MARKETING_FIELDS, "archived_at")
APPOINTMENT_FIELDS = (
    "cliniko_id",
    "starts_at",
    "ends_at",
    "appointment_type",
    "practitioner",
    "arrived",
    "cancelled",
    "cancelled_at",
    "did_not_arrive",
)
BATCH = 1000


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def iter_contacts(session: Session, *, with_appointments: bool) -> Iterator[dict[str, Any]]:
    """Every contact as a dict, in id order, with appointments when asked (streamed)."""
    table = table_of(Contact)
    contacts = session.execute(
        select(*(table.c[f] for f in CONTACT_FIELDS)).order_by(table.c.id).execution_options(yield_per=BATCH)
    ).mappings()
    appointments = _appointments_by_contact(session) if with_appointments else iter(())
    pending = next(appointments, None)
    for row in contacts:
        record = {k: _plain(v) for k, v in row.items()}
        if with_appointments:
            while pending is not None and pending[0] < row["id"]:
                pending = next(appointments, None)
            if pending is not None and pending[0] == row["id"]:
                record["appointments"] = pending[1]
                pending = next(appointments, None)
            else:
                record["appointments"] = []
        yield record


def _appointments_by_contact(session: Session) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    kind = aliased(AppointmentType)
    who = aliased(Practitioner)
    rows = session.execute(
        select(
            Appointment.contact_id,
            Appointment.cliniko_id,
            Appointment.starts_at,
            Appointment.ends_at,
            kind.name.label("appointment_type"),
            who.display_name.label("practitioner"),
            Appointment.patient_arrived,
            Appointment.cancelled_at,
            Appointment.did_not_arrive,
        )
        .outerjoin(kind, kind.id == Appointment.appointment_type_id)
        .outerjoin(who, who.id == Appointment.practitioner_id)
        .where(Appointment.contact_id.is_not(None))
        .order_by(Appointment.contact_id, Appointment.starts_at, Appointment.id)
        .execution_options(yield_per=BATCH)
    ).mappings()
    for contact_id, group in groupby(rows, key=lambda r: r["contact_id"]):
        yield (
            contact_id,
            [
                {
                    "cliniko_id": r["cliniko_id"],
                    "starts_at": _plain(r["starts_at"]),
                    "ends_at": _plain(r["ends_at"]),
                    "appointment_type": r["appointment_type"],
                    "practitioner": r["practitioner"],
                    "arrived": bool(r["patient_arrived"]),
                    "cancelled": r["cancelled_at"] is not None,
                    "cancelled_at": _plain(r["cancelled_at"]),
                    "did_not_arrive": bool(r["did_not_arrive"]),
                }
                for r in group
            ],
        )


def write_json(records: Iterator[dict[str, Any]], out: IO[str]) -> int:
    """Write a JSON array one record at a time; return how many were written."""
    count = 0
    out.write("[")
    for record in records:
        out.write(",\n" if count else "\n")
        out.write(json.dumps(record, ensure_ascii=False))
        count += 1
    out.write("\n]\n")
    return count


def write_csv(records: Iterator[dict[str, Any]], out: IO[str], *, with_appointments: bool) -> int:
    """Write CSV: one row per contact, or one per appointment (contact columns repeated).

    Formula-looking values are neutralised (`oncord.csv_safe`): the file is opened in spreadsheets.
    """
    columns = list(CONTACT_FIELDS)
    if with_appointments:
        columns += [f"appointment_{f}" for f in APPOINTMENT_FIELDS]
    writer = SafeDictWriter(out, fieldnames=columns)
    writer.writeheader()
    count = 0
    for record in records:
        appointments = record.pop("appointments", None)
        if not with_appointments:
            writer.writerow(record)
        else:
            for appointment in appointments or [None]:
                extra = {f"appointment_{k}": v for k, v in (appointment or {}).items()}
                writer.writerow({**record, **extra})
        count += 1
    return count
