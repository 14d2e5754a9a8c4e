"""Re-reading an appointment from Cliniko just before a send, when the last pull is stale."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oncord.cliniko.client import ClinikoClient
from oncord.cliniko.errors import ClinikoError, NotFound
from oncord.cliniko.payloads import parse_attendee, parse_individual_appointment
from oncord.config import Settings
from oncord.integration import active_connection, client_for
from oncord.models import Appointment, SyncRun, SyncRunStatus
from oncord.secrets import SecretBox, SecretUnreadable
from oncord.sync.launcher import PULL_KINDS
from oncord.sync.reference import ReferenceIds
from oncord.sync.upsert_appointments import upsert_appointments
from oncord.sync.upsert_classes import upsert_attendees

log = logging.getLogger(__name__)


def last_pull_finished(session: Session) -> datetime | None:
    """When the last pull that stored data finished."""
    return session.scalar(
        select(func.max(SyncRun.finished_at)).where(
            SyncRun.kind.in_(PULL_KINDS),
            SyncRun.status.in_([SyncRunStatus.SUCCEEDED.value, SyncRunStatus.PARTIAL.value]),
        )
    )


class AppointmentRefresher:
    """Fetches single appointments from Cliniko and stores them like the pull would."""

    def __init__(self, settings: Settings, secret_box: SecretBox, client_options: dict[str, Any]) -> None:
        self.settings = settings
        self.secret_box = secret_box
        self.client_options = client_options
        self._client: ClinikoClient | None = None
        self._refs: ReferenceIds | None = None

    def needed(self, session: Session, now: datetime) -> bool:
        """Whether Cliniko is connected and the last pull is older than two poll intervals.

        With auto-sync on, a poll every SYNC_POLL_SECONDS keeps appointments at most that old, so
        a send re-reads its appointment only when polls are off or behind (a missed poll, an
        outage): one request per message only when the data may really be stale.
        """
        connection = active_connection(session)
        if connection is None or not connection.is_active:
            return False
        last = last_pull_finished(session)
        return last is None or now - last > timedelta(seconds=2 * self.settings.sync_poll_seconds)

    def refresh(self, session: Session, appointment: Appointment, now: datetime) -> Appointment | None:
        """The appointment as Cliniko has it now (None when Cliniko no longer has it).

        When Cliniko cannot be asked, the stored copy is used: a reminder is worth more than
        the small chance it changed since the last pull.
        """
        try:
            client = self._client_for(session)
        except SecretUnreadable as exc:
            log.warning("cannot re-read appointments from Cliniko: %s", exc)
            return appointment
        if client is None:
            return appointment
        try:
            if appointment.is_class:
                # A class attendance is the attendee's; its class is as the last pull stored it.
                upsert_attendees(session, [parse_attendee(client.get_attendee(appointment.cliniko_id))], now)
            else:
                raw = client.get_individual_appointment(appointment.cliniko_id)
                record = parse_individual_appointment(raw)
                if self._refs is None:
                    self._refs = ReferenceIds.load(session)
                upsert_appointments(session, [record], self._refs, now)
        except NotFound:
            return None
        except ClinikoError as exc:
            log.warning("could not re-read appointment %s from Cliniko: %s", appointment.cliniko_id, exc)
            return appointment
        session.commit()
        return session.get(Appointment, appointment.id, populate_existing=True)

    def _client_for(self, session: Session) -> ClinikoClient | None:
        if self._client is None:
            connection = active_connection(session)
            if connection is None or not connection.is_active:
                return None
            self._client = client_for(connection, self.settings, self.secret_box, **self.client_options)
        return self._client

    def close(self) -> None:
        """Close the Cliniko client if one was opened."""
        if self._client is not None:
            self._client.close()
            self._client = None
