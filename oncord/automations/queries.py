"""What the automation screens read: lists with counts, the send log, preview candidates."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oncord.models import Appointment, Automation, AutomationSend, Contact

LOG_PAGE = 50


def list_automations(session: Session) -> list[Automation]:
    """Every automation not deleted, enabled ones first, then by name."""
    query = select(Automation).where(Automation.deleted_at.is_(None))
    return list(session.scalars(query.order_by(Automation.enabled.desc(), Automation.name)))


def send_counts(session: Session, automation_ids: list[int] | None = None) -> dict[int, Counter[str]]:
    """Sends per automation by state, e.g. {3: Counter(sent=10, skipped=2)}."""
    query = select(AutomationSend.automation_id, AutomationSend.state, func.count()).group_by(
        AutomationSend.automation_id, AutomationSend.state
    )
    if automation_ids is not None:
        query = query.where(AutomationSend.automation_id.in_(automation_ids))
    counts: dict[int, Counter[str]] = {}
    for automation_id, state, count in session.execute(query):
        counts.setdefault(automation_id, Counter())[state] = count
    return counts


@dataclass(frozen=True)
class LogRow:
    """One send with its contact and appointment."""

    send: AutomationSend
    contact: Contact | None
    appointment: Appointment | None

    @property
    def when(self) -> datetime:
        """The moment that matters for its state: sent, finished, or due."""
        return self.send.sent_at or self.send.finished_at or self.send.due_at


@dataclass(frozen=True)
class LogPage:
    """A page of the send log, newest first, and the cursor of the next page."""

    rows: list[LogRow]
    next_before: int | None


def send_log(
    session: Session,
    automation_id: int,
    *,
    state: str | None = None,
    channel: str | None = None,
    before: int | None = None,
    limit: int = LOG_PAGE,
) -> LogPage:
    """The automation's sends, newest first, optionally of one state or channel."""
    query = (
        select(AutomationSend, Contact, Appointment)
        .outerjoin(Contact, Contact.id == AutomationSend.contact_id)
        .outerjoin(Appointment, Appointment.id == AutomationSend.appointment_id)
        .where(AutomationSend.automation_id == automation_id)
        .order_by(AutomationSend.id.desc())
        .limit(limit + 1)
    )
    if state:
        query = query.where(AutomationSend.state == state)
    if channel:
        query = query.where(AutomationSend.channel == channel)
    if before is not None:
        query = query.where(AutomationSend.id < before)
    rows = [LogRow(send, contact, appointment) for send, contact, appointment in session.execute(query)]
    more = len(rows) > limit
    rows = rows[:limit]
    return LogPage(rows, rows[-1].send.id if more and rows else None)


def preview_contacts(session: Session, now: datetime, limit: int = 100) -> list[Contact]:
    """Contacts to preview with: those with the soonest upcoming appointments, then recent ones."""
    upcoming = (
        select(Appointment.contact_id, func.min(Appointment.starts_at).label("next"))
        .where(Appointment.contact_id.is_not(None), Appointment.starts_at >= now,
               Appointment.cancelled_at.is_(None))
        .group_by(Appointment.contact_id)
        .order_by(func.min(Appointment.starts_at))
        .limit(limit)
    )
    ids = [row.contact_id for row in session.execute(upcoming)]
    if len(ids) < limit:
        recent = (
            select(Appointment.contact_id)
            .where(Appointment.contact_id.is_not(None), Appointment.contact_id.not_in(ids or [0]))
            .group_by(Appointment.contact_id)
            .order_by(func.max(Appointment.starts_at).desc())
            .limit(limit - len(ids))
        )
        ids.extend(session.scalars(recent))
    contacts = {c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_(ids)))}
    return [contacts[i] for i in ids if i in contacts]


def preview_appointment(
    session: Session,
    contact_id: int,
    now: datetime,
    *,
    appointment_type_ids: Collection[int] = (),
    practitioner_ids: Collection[int] = (),
    upcoming_only: bool = False,
) -> Appointment | None:
    """The contact's next appointment that passes the filters (empty means any), else their latest
    one; upcoming_only (reminders) takes only a booked one still ahead. None when none matches."""
    query = select(Appointment).where(Appointment.contact_id == contact_id, Appointment.archived_at.is_(None))
    if appointment_type_ids:
        query = query.where(Appointment.appointment_type_id.in_(sorted(appointment_type_ids)))
    if practitioner_ids:
        query = query.where(Appointment.practitioner_id.in_(sorted(practitioner_ids)))
    ahead = query.where(Appointment.starts_at >= now)
    if upcoming_only:
        ahead = ahead.where(Appointment.cancelled_at.is_(None))
    upcoming = session.scalars(ahead.order_by(Appointment.starts_at).limit(1)).first()
    if upcoming is not None or upcoming_only:
        return upcoming
    return session.scalars(query.order_by(Appointment.starts_at.desc()).limit(1)).first()
