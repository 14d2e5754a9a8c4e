"""Recording local edits of linked contacts so they reach Cliniko, and when they are due."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oncord.clock import utc
from oncord.db import one_of
from oncord.models import ChangeStatus, Contact, PatientChange
from oncord.sync.patient_fields import PUSHABLE_FIELDS

OPEN = "open"


def record_changes(session: Session, contact: Contact, fields: Iterable[str], now: datetime) -> bool:
    """Add (or refresh) an outbox row per changed field; return whether a push is now owed.

    Call it in the transaction that saves the edit. A contact not linked to Cliniko is never
    pushed on its own, so nothing is recorded for it.
    """
    wanted = sorted(set(fields) & PUSHABLE_FIELDS)
    if contact.cliniko_patient_id is None or not wanted:
        return False
    open_rows = {
        row.field: row
        for row in session.scalars(
            select(PatientChange).where(
                PatientChange.contact_id == contact.id,
                PatientChange.field.in_(wanted),
                PatientChange.open_key == OPEN,
            )
        )
    }
    for field in wanted:
        row = open_rows.get(field)
        if row is None:
            session.add(
                PatientChange(
                    contact_id=contact.id,
                    field=field,
                    status=ChangeStatus.PENDING.value,
                    open_key=OPEN,
                    first_changed_at=now,
                    changed_at=now,
                    attempts=0,
                )
            )
        else:
            # A new edit supersedes an earlier one (and a value Cliniko refused).
            if row.status == ChangeStatus.FAILED:
                row.first_changed_at = now
            row.status = ChangeStatus.PENDING.value
            row.changed_at = now
            row.error = None
    session.flush()
    return True


def push_due_at(session: Session, *, delay: timedelta, max_wait: timedelta) -> datetime | None:
    """When the next push is due: `delay` after the last edit of a burst, never later than
    `max_wait` after the oldest waiting edit; None when nothing is pending."""
    first, last = session.execute(
        select(func.min(PatientChange.first_changed_at), func.max(PatientChange.changed_at)).where(
            PatientChange.status == ChangeStatus.PENDING.value
        )
    ).one()
    if first is None:
        return None
    return min(utc(last) + delay, utc(first) + max_wait)


def protected_fields(session: Session, contact_ids: Iterable[int]) -> dict[int, set[str]]:
    """Fields with a local edit Cliniko does not have yet, per contact: a pull leaves them alone."""
    ids = list(contact_ids)
    result: dict[int, set[str]] = {}
    if not ids:
        return result
    rows = session.execute(
        select(PatientChange.contact_id, PatientChange.field).where(
            one_of(session, PatientChange.contact_id, ids), PatientChange.open_key == OPEN
        )
    )
    for contact_id, field in rows:
        result.setdefault(contact_id, set()).add(field)
    return result


def open_changes(session: Session, contact_id: int) -> list[PatientChange]:
    """A contact's edits Cliniko has not taken yet: waiting to be pushed, or refused."""
    return list(
        session.scalars(
            select(PatientChange)
            .where(PatientChange.contact_id == contact_id, PatientChange.open_key == OPEN)
            .order_by(PatientChange.field)
        )
    )
