"""The push: send each linked contact's pending edits to Cliniko as one PATCH."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from oncord.cliniko import payloads
from oncord.cliniko.client import ClinikoClient
from oncord.cliniko.errors import NotFound, ValidationFailed
from oncord.clock import Clock
from oncord.db import Database
from oncord.models import ChangeStatus, Contact, PatientChange
from oncord.sync.patient_fields import CLINIKO_WRITES, cliniko_changes, columns_refused

log = logging.getLogger(__name__)


@dataclass
class PushResult:
    """What one push did."""

    contacts_pushed: int = 0
    fields_pushed: int = 0
    fields_failed: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)


class PushSync:
    """Pushes every pending edit; each contact is committed on its own."""

    def __init__(
        self,
        database: Database,
        client: ClinikoClient,
        clock: Clock,
        *,
        heartbeat: Callable[[], object] | None = None,
    ) -> None:
        self.database = database
        self.client = client
        self.clock = clock
        # Called after each contact, e.g. to renew the push lock.
        self.heartbeat = heartbeat or (lambda: None)

    def run(self) -> PushResult:
        """Push all contacts with pending edits; transient Cliniko failures propagate."""
        result = PushResult()
        with self.database.session() as session:
            contact_ids = list(
                session.scalars(
                    select(PatientChange.contact_id)
                    .where(PatientChange.status == ChangeStatus.PENDING.value)
                    .group_by(PatientChange.contact_id)
                    .order_by(PatientChange.contact_id)
                )
            )
            for contact_id in contact_ids:
                self._push_contact(session, contact_id, result)
                session.commit()
                self.heartbeat()
        return result

    def _push_contact(self, session: Session, contact_id: int, result: PushResult) -> None:
        contact = session.get(Contact, contact_id)
        rows = list(
            session.scalars(
                select(PatientChange).where(
                    PatientChange.contact_id == contact_id,
                    PatientChange.status == ChangeStatus.PENDING.value,
                )
            )
        )
        if contact is None or not rows or contact.cliniko_patient_id is None:
            return
        # Only rows whose changed_at is still what we read are closed: an edit made while the
        # request was in flight stays pending and goes out in the next push.
        snapshot = {row.id: row.changed_at for row in rows}
        try:
            self._send(contact, {row.field for row in rows})
        except ValidationFailed as exc:
            refused = _refused_fields(exc, {row.field for row in rows})
            rest = {row.id: row.changed_at for row in rows if row.field not in refused}
            if refused and rest:
                # Send what Cliniko did not object to; only the refused fields wait for staff.
                failed = {row.id: row.changed_at for row in rows if row.field in refused}
                self._close(session, failed, ChangeStatus.FAILED, error=exc.user_message)
                result.fields_failed += len(failed)
                result.problems.append({"contact_id": contact_id, "reason": exc.user_message})
                self._send_rest(session, contact, [r for r in rows if r.id in rest], result)
                return
            self._close(session, snapshot, ChangeStatus.FAILED, error=exc.user_message)
            result.fields_failed += len(rows)
            result.problems.append({"contact_id": contact_id, "reason": exc.user_message})
            return
        except NotFound:
            reason = "This patient no longer exists in Cliniko (deleted or merged), so the edit was not sent."
            self._close(session, snapshot, ChangeStatus.FAILED, error=reason)
            result.fields_failed += len(rows)
            result.problems.append({"contact_id": contact_id, "reason": reason})
            return
        except (ValueError, TypeError) as exc:
            reason = f"Cliniko cannot take this value: {exc}."
            self._close(session, snapshot, ChangeStatus.FAILED, error=reason)
            result.fields_failed += len(rows)
            result.problems.append({"contact_id": contact_id, "reason": reason})
            return
        self._close(session, snapshot, ChangeStatus.PUSHED)
        result.contacts_pushed += 1
        result.fields_pushed += len(rows)

    def _send(self, contact: Contact, fields: set[str]) -> None:
        assert contact.cliniko_patient_id is not None
        changes = cliniko_changes(contact, fields)
        current_numbers: tuple[payloads.PhoneNumber, ...] = ()
        if "phone" in fields:
            # Cliniko replaces the whole list, so keep the patient's other numbers.
            current = payloads.parse_patient(self.client.get_patient(contact.cliniko_patient_id))
            current_numbers = current.phone_numbers
        body = payloads.patient_update_body(changes, CLINIKO_WRITES, current_phone_numbers=current_numbers)
        if body:
            self.client.update_patient(contact.cliniko_patient_id, body)

    def _send_rest(
        self, session: Session, contact: Contact, rows: list[PatientChange], result: PushResult
    ) -> None:
        snapshot = {row.id: row.changed_at for row in rows}
        try:
            self._send(contact, {row.field for row in rows})
        except ValidationFailed as exc:
            self._close(session, snapshot, ChangeStatus.FAILED, error=exc.user_message)
            result.fields_failed += len(rows)
            return
        self._close(session, snapshot, ChangeStatus.PUSHED)
        result.contacts_pushed += 1
        result.fields_pushed += len(rows)

    def _close(
        self,
        session: Session,
        snapshot: dict[int, datetime],
        status: ChangeStatus,
        *,
        error: str | None = None,
    ) -> None:
        now = self.clock.now()
        for row_id, changed_at in snapshot.items():
            values: dict[str, Any] = {
                "status": status.value,
                "error": error,
                "attempts": PatientChange.attempts + 1,
            }
            if status == ChangeStatus.PUSHED:
                values.update(open_key=None, pushed_at=now)
            session.execute(
                update(PatientChange)
                .where(PatientChange.id == row_id, PatientChange.changed_at == changed_at)
                .values(values)
                .execution_options(synchronize_session=False)
            )


def _refused_fields(exc: ValidationFailed, fields: set[str]) -> set[str]:
    return columns_refused(exc.errors, fields)
