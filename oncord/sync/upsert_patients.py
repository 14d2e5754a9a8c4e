"""Store one page of Cliniko patients as contacts (no commit; the pull commits per page)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import String, func, select, update
from sqlalchemy.orm import Session

from oncord.contacts.consent import PulledChange, pulled_status, record_pulled_changes, sms_held_locally
from oncord.db import one_of, table_of
from oncord.models import Appointment, Contact, MarketingStatus
from oncord.sync.bulk import insert_returning_ids, update_by_id
from oncord.sync.outbox import protected_fields
from oncord.sync.patient_fields import BY_COLUMN, patient_columns


@dataclass
class PageCounts:
    """What one page did."""

    fetched: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    # Read but not this resource's to store (e.g. attendees of individual appointments).
    ignored: int = 0
    linked_ids: list[int] = field(default_factory=list)
    # Appointment rows this page created (booking attribution looks at new bookings only).
    created_ids: list[int] = field(default_factory=list)


_CONTACT_COLUMNS = (
    "id",
    "cliniko_patient_id",
    "cliniko_updated_at",
    "email_marketing_status",
    "sms_marketing_status",
)


def upsert_patients(
    session: Session, patients: Sequence[Any], now: datetime, *, link_by_email: bool,
    default_region: str = "AU",
) -> PageCounts:
    """Create or update the contacts of these patients; link unlinked contacts by e-mail."""
    counts = PageCounts(fetched=len(patients))
    if not patients:
        return counts
    table = table_of(Contact)
    by_id = {p.id: p for p in patients}
    existing = {
        row.cliniko_patient_id: row
        for row in session.execute(
            select(*(table.c[c] for c in _CONTACT_COLUMNS)).where(
                one_of(session, table.c.cliniko_patient_id, by_id)
            )
        )
    }
    email_matches = _unlinked_contacts_by_email(session, patients, existing) if link_by_email else {}
    # The conflict rule: a field with a local edit Cliniko has not taken yet keeps the local value.
    protected = protected_fields(session, [row.id for row in (*existing.values(), *email_matches.values())])
    held = sms_held_locally(session, [
        row.id for patient_id, row in (*existing.items(), *email_matches.items())
        if row.sms_marketing_status == MarketingStatus.SUBSCRIBED
        and not by_id[patient_id].accepted_sms_marketing
    ])

    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    consent_changes: list[PulledChange] = []
    new_consent: dict[str, tuple[str, str]] = {}
    for patient in by_id.values():
        row = existing.get(patient.id) or email_matches.get(patient.id)
        if (
            row is not None
            and row.cliniko_patient_id == patient.id
            and row.cliniko_updated_at == patient.updated_at
        ):
            counts.unchanged += 1
            continue
        values = patient_columns(patient, default_region=default_region)
        email_status = pulled_status(
            row.email_marketing_status if row else None, patient.accepted_email_marketing
        )
        sms_status = pulled_status(row.sms_marketing_status if row else None, patient.accepted_sms_marketing,
                                   held_locally=row is not None and row.id in held)
        values.update(email_marketing_status=email_status, sms_marketing_status=sms_status, updated_at=now)
        if row is None:
            values.update(cliniko_patient_id=patient.id, created_at=now)
            inserts.append(values)
            new_consent[patient.id] = (email_status, sms_status)
            counts.created += 1
            continue
        for name in protected.get(row.id, ()):
            # A derived column (a phone's E.164 form, a country's name) follows its field.
            for column in BY_COLUMN[name].columns if name in BY_COLUMN else (name,):
                values.pop(column, None)
        email_status = values.get("email_marketing_status", row.email_marketing_status)
        sms_status = values.get("sms_marketing_status", row.sms_marketing_status)
        values.update(id=row.id, cliniko_patient_id=patient.id)
        updates.append(values)
        counts.updated += 1
        for channel, old, new in (
            ("email", row.email_marketing_status, email_status),
            ("sms", row.sms_marketing_status, sms_status),
        ):
            if old != new:
                consent_changes.append(PulledChange(row.id, channel, old, new))

    update_by_id(session, table_of(Contact), updates)
    new_ids = insert_returning_ids(session, table_of(Contact), inserts, "cliniko_patient_id")
    for cliniko_id, (email_status, sms_status) in new_consent.items():
        consent_changes.append(PulledChange(new_ids[cliniko_id], "email", None, email_status))
        consent_changes.append(PulledChange(new_ids[cliniko_id], "sms", None, sms_status))
    record_pulled_changes(session, consent_changes, now)
    counts.linked_ids = _link_waiting_appointments(session, list(by_id))
    return counts


def _unlinked_contacts_by_email(
    session: Session, patients: Sequence[Any], existing: dict[str, Any]
) -> dict[str, Any]:
    """Map patient id -> an unlinked local contact with the same e-mail (each contact used once)."""
    wanted = {p.email.lower(): p.id for p in reversed(patients) if p.email and p.id not in existing}
    if not wanted:
        return {}
    table = table_of(Contact)
    email_key = func.lower(table.c.email, type_=String)
    rows = session.execute(
        select(*(table.c[c] for c in _CONTACT_COLUMNS), email_key.label("email_key"))
        .where(table.c.cliniko_patient_id.is_(None), one_of(session, email_key, wanted))
        .order_by(table.c.id)
    )
    matches: dict[str, Any] = {}
    for row in rows:
        patient_id = wanted.pop(row.email_key, None)
        if patient_id is not None:
            matches[patient_id] = row
    return matches


def _link_waiting_appointments(session: Session, cliniko_patient_ids: list[str]) -> list[int]:
    """Attach appointments pulled before their patient existed locally; return their ids."""
    waiting = list(
        session.scalars(
            select(Appointment.id).where(
                Appointment.contact_id.is_(None),
                one_of(session, Appointment.cliniko_patient_id, cliniko_patient_ids),
            )
        )
    )
    if waiting:
        contact_id = (
            select(Contact.id)
            .where(Contact.cliniko_patient_id == Appointment.cliniko_patient_id)
            .scalar_subquery()
        )
        session.execute(
            update(Appointment).where(one_of(session, Appointment.id, waiting)).values(contact_id=contact_id),
            execution_options={"synchronize_session": False},
        )
    return waiting
