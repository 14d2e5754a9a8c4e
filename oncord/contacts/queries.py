"""The contacts list (search, filters, sort, pages) and what the contact page shows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from oncord.contacts.search import search_condition
from oncord.models import (
    ActivityEvent,
    Appointment,
    Contact,
    MarketingStatus,
    Practitioner,
)

PER_PAGE = 25
# Counting every match of a one-letter search over 100,000 contacts costs more than it tells.
COUNT_CAP = 10_000
FEED_PAGE = 15

# Each sort is given the columns to order (the table's, or a subquery's with the same names).
SORTS: dict[str, tuple[str, Callable[[Any], tuple[Any, ...]]]] = {
    "name": ("Name A–Z", lambda c: (c.last_name, c.first_name, c.id)),
    "name_desc": ("Name Z–A", lambda c: (c.last_name.desc(), c.first_name.desc(), c.id.desc())),
    "newest": ("Newest first", lambda c: (c.id.desc(),)),
    "email": ("E-mail", lambda c: (func.lower(c.email).asc().nulls_last(), c.id)),
}
STATUS_CHOICES = tuple(s.value for s in MarketingStatus)


@dataclass(frozen=True)
class ContactFilters:
    """The state of the contacts list, as carried in its URL."""

    q: str = ""
    email_status: str = ""
    sms_status: str = ""
    linked: str = ""  # "yes", "no" or "" for either
    practitioner_id: int | None = None
    sort: str = "name"
    page: int = 1

    def query_args(self, **changes: Any) -> dict[str, Any]:
        """URL arguments for this state (defaults left out), with some values changed."""
        values: dict[str, Any] = {
            "q": self.q,
            "email_status": self.email_status,
            "sms_status": self.sms_status,
            "linked": self.linked,
            "practitioner": self.practitioner_id,
            "sort": self.sort if self.sort != "name" else None,
            "page": self.page,
        }
        values.update(changes)
        if values["page"] == 1:
            values["page"] = None
        return {k: v for k, v in values.items() if v not in ("", None)}

    @property
    def is_filtered(self) -> bool:
        """Whether anything narrows the list."""
        return bool(self.q or self.email_status or self.sms_status or self.linked or self.practitioner_id)


@dataclass(frozen=True)
class ContactRow:
    """The columns the list shows."""

    id: int
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    email_marketing_status: str
    sms_marketing_status: str
    cliniko_patient_id: str | None
    archived_at: datetime | None

    @property
    def full_name(self) -> str:
        """First and last name, or a placeholder."""
        return " ".join(p for p in (self.first_name, self.last_name) if p) or "(no name)"


@dataclass(frozen=True)
class ContactList:
    """One page of the contacts list."""

    filters: ContactFilters
    rows: list[ContactRow]
    total: int
    total_is_capped: bool
    per_page: int = PER_PAGE

    @property
    def first(self) -> int:
        """Position of the first row shown (1-based), 0 when none."""
        return (self.filters.page - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last(self) -> int:
        """Position of the last row shown."""
        return self.first + len(self.rows) - 1 if self.rows else 0

    @property
    def pages(self) -> int:
        """How many pages the (possibly capped) total makes."""
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        """Whether there is a page before."""
        return self.filters.page > 1

    @property
    def has_next(self) -> bool:
        """Whether there is a page after."""
        return self.last < self.total or (self.total_is_capped and len(self.rows) == self.per_page)


def _conditions(filters: ContactFilters, region: str) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    found = search_condition(filters.q, region)
    if found is not None:
        conditions.append(found)
    if filters.email_status in STATUS_CHOICES:
        conditions.append(Contact.email_marketing_status == filters.email_status)
    if filters.sms_status in STATUS_CHOICES:
        conditions.append(Contact.sms_marketing_status == filters.sms_status)
    if filters.linked == "yes":
        conditions.append(Contact.cliniko_patient_id.is_not(None))
    elif filters.linked == "no":
        conditions.append(Contact.cliniko_patient_id.is_(None))
    if filters.practitioner_id:
        # "Seen by": any appointment with the practitioner that was not cancelled.
        conditions.append(
            exists().where(
                Appointment.contact_id == Contact.id,
                Appointment.practitioner_id == filters.practitioner_id,
                Appointment.cancelled_at.is_(None),
            )
        )
    return conditions


def list_contacts(session: Session, filters: ContactFilters, *, region: str = "AU",
                  per_page: int = PER_PAGE) -> ContactList:
    """One page of contacts matching the filters, with a total counted up to COUNT_CAP."""
    conditions = _conditions(filters, region)
    _label, order = SORTS.get(filters.sort, SORTS["name"])
    columns = [getattr(Contact, f) for f in ContactRow.__dataclass_fields__]
    offset = (filters.page - 1) * per_page
    total: int | None = None
    if filters.q:
        # A search usually matches a few thousand contacts at most: read them once through the
        # search indexes (materialised, so PostgreSQL cannot switch to walking the name index and
        # testing every row), then sort and count that set in the same query.
        matches = (
            select(*columns).where(*conditions).limit(COUNT_CAP + 1)
            .cte("matches").prefix_with("MATERIALIZED", dialect="postgresql")
        )
        found = session.execute(
            select(*matches.c, func.count().over().label("total"))
            .order_by(*order(matches.c)).limit(per_page).offset(offset)
        ).all()
        total = found[0].total if found else None
        if total is not None and total <= COUNT_CAP:
            return _page(filters, [row[:-1] for row in found], total, per_page)
    if total is None:
        capped = select(Contact.id).where(*conditions).limit(COUNT_CAP + 1).subquery()
        total = session.scalar(select(func.count()).select_from(capped)) or 0
    rows = session.execute(
        select(*columns).where(*conditions).order_by(*order(Contact)).limit(per_page).offset(offset)
    ).all()
    return _page(filters, rows, total, per_page)


def _page(filters: ContactFilters, rows: Any, total: int, per_page: int) -> ContactList:
    return ContactList(
        filters=filters,
        rows=[ContactRow(*row) for row in rows],
        total=min(total, COUNT_CAP),
        total_is_capped=total > COUNT_CAP,
        per_page=per_page,
    )


def practitioner_choices(session: Session) -> list[tuple[int, str]]:
    """Practitioners for the "seen by" filter, active ones first."""
    return [
        (p.id, p.display_name + ("" if p.active else " (inactive)"))
        for p in session.scalars(select(Practitioner).order_by(Practitioner.active.desc(),
                                                               Practitioner.display_name))
    ]


@dataclass
class ContactSummary:
    """What the contact page shows besides the feed."""

    contact: Contact
    upcoming: list[Appointment] = field(default_factory=list)
    appointment_counts: dict[str, int] = field(default_factory=dict)


def contact_summary(session: Session, contact: Contact, now: datetime) -> ContactSummary:
    """Upcoming appointments and outcome counts of a contact (its consent ledger: contacts.consent)."""
    upcoming = list(
        session.scalars(
            select(Appointment)
            .where(
                Appointment.contact_id == contact.id,
                Appointment.starts_at >= now,
                Appointment.cancelled_at.is_(None),
                Appointment.archived_at.is_(None),
            )
            .order_by(Appointment.starts_at)
            .limit(3)
        )
    )
    outcome = _outcome_expression()
    counts: dict[str, int] = dict(
        session.execute(
            select(outcome, func.count())
            .where(Appointment.contact_id == contact.id, Appointment.archived_at.is_(None),
                   Appointment.starts_at < now)
            .group_by(outcome)
        ).all()
    )
    return ContactSummary(contact=contact, upcoming=upcoming, appointment_counts=counts)


def _outcome_expression() -> Any:
    return case(
        (Appointment.cancelled_at.is_not(None), "cancelled"),
        (Appointment.did_not_arrive.is_(True), "did_not_arrive"),
        (Appointment.patient_arrived.is_(True), "arrived"),
        else_="booked",
    )


@dataclass(frozen=True)
class FeedItem:
    """One activity event with the appointment it is about (when any)."""

    event: ActivityEvent
    appointment: Appointment | None


@dataclass(frozen=True)
class FeedPage:
    """A slice of a contact's activity feed, newest first."""

    items: list[FeedItem]
    next_cursor: str | None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _cursor_for(event: ActivityEvent) -> str:
    return f"{(event.occurred_at - _EPOCH) // _MICROSECOND}.{event.id}"


def parse_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """The (occurred_at, id) an opaque "load more" cursor stands for; None when absent or bad."""
    if not cursor:
        return None
    try:
        micros, event_id = (int(part) for part in cursor.split(".", 1))
        return _EPOCH + micros * _MICROSECOND, event_id
    except (ValueError, OverflowError, OSError):
        return None


def activity_feed(session: Session, contact_id: int, *, before: str | None = None,
                  limit: int = FEED_PAGE) -> FeedPage:
    """The newest events of a contact, after the cursor of the previous page (keyset paging)."""
    query = (
        select(ActivityEvent, Appointment)
        .outerjoin(Appointment, Appointment.id == ActivityEvent.appointment_id)
        .where(ActivityEvent.contact_id == contact_id)
        .order_by(ActivityEvent.occurred_at.desc(), ActivityEvent.id.desc())
        .limit(limit + 1)
    )
    position = parse_cursor(before)
    if position is not None:
        when, event_id = position
        query = query.where(
            or_(
                ActivityEvent.occurred_at < when,
                and_(ActivityEvent.occurred_at == when, ActivityEvent.id < event_id),
            )
        )
    rows = session.execute(query).unique().all()
    items = [FeedItem(event, appointment) for event, appointment in rows[:limit]]
    next_cursor = _cursor_for(items[-1].event) if len(rows) > limit else None
    return FeedPage(items=items, next_cursor=next_cursor)
