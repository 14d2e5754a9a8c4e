"""Who a campaign goes to: typed conditions turned into ONE query on contacts.

Each appointment condition becomes an EXISTS (or NOT EXISTS, for "has no appointment ...")
subquery correlated to the contact; contact conditions are plain predicates; all are ANDed.
Dates are the clinic's calendar days: a condition's period is worked out in the clinic's time
zone (zoneinfo, so daylight-saving changes are honoured) and compared as UTC bounds, which keeps
the appointments' (contact_id, starts_at) and (practitioner_id, starts_at) indexes usable.

Nothing here loads contacts into Python to decide who matches; counting and sampling are single
queries too. Only Subscribed contacts with an address on the channel ever receive a campaign:
`reason_expression` says, per contact, why anyone else is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Integer, Select, and_, bindparam, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from oncord.db import UTCDateTime
from oncord.messaging.eligibility import (
    RECEIVE,
    can_receive,
    reason_expression,
    sql_codes,
)
from oncord.messaging.eligibility import reason_text as eligibility_reason_text
from oncord.models import Appointment, Contact, MarketingStatus

OUTCOMES: dict[str, str] = {
    "attended": "attended (marked arrived)",
    "booked": "booked, no outcome recorded",
    "did_not_arrive": "did not arrive",
    "cancelled": "cancelled",
}
PERIODS: dict[str, str] = {
    "any": "at any time",
    "last_days": "in the last … days",
    "next_days": "in the next … days",
    "between": "between two dates",
    "since": "since a date",
    "before": "before a date",
}
MAX_DAYS = 3650

# Why a matching contact does not receive the campaign: the one eligibility rule's reasons.
REASONS: tuple[str, ...] = tuple(
    dict.fromkeys(code for channel in ("email", "sms") for code in sql_codes(channel)[1:])
)


def reason_text(reason: str, channel: str) -> str:
    """An exclusion reason in words for the channel, as a sentence start."""
    words = eligibility_reason_text(reason, channel)
    return words[:1].upper() + words[1:]


@dataclass(frozen=True)
class Period:
    """When an appointment is or was booked for, on the clinic's calendar."""

    kind: str = "any"
    days: int | None = None
    start: date | None = None
    end: date | None = None

    def bounds(self, now: datetime, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
        """(from, until) as UTC moments, from inclusive and until exclusive; None is open-ended.

        last N days: from the start of the local day N days ago until now. next N days: from now
        to the end of the local day N days ahead. between: the first day's start to the end of the
        last day. since: from the day's start. before: until the day's start.
        """
        today = now.astimezone(zone).date()
        if self.kind == "last_days":
            return day_start(today - timedelta(days=self.days or 0), zone), now
        if self.kind == "next_days":
            return now, day_start(today + timedelta(days=(self.days or 0) + 1), zone)
        if self.kind == "between" and self.start and self.end:
            return day_start(self.start, zone), day_start(self.end + timedelta(days=1), zone)
        if self.kind == "since" and self.start:
            return day_start(self.start, zone), None
        if self.kind == "before" and self.start:
            return None, day_start(self.start, zone)
        return None, None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "kind": self.kind,
            "days": self.days,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Period:
        """Read back what to_json wrote (unknown kinds read as "any")."""
        data = data or {}
        kind = data.get("kind")
        if not isinstance(kind, str) or kind not in PERIODS:
            kind = "any"
        return cls(
            kind=kind,
            days=_int_or_none(data.get("days")),
            start=_date_or_none(data.get("start")),
            end=_date_or_none(data.get("end")),
        )


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The UTC moment a local calendar day begins (a skipped local midnight maps to the day's real start)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class AppointmentCondition:
    """Has (or has no) appointment matching all of: the period, types, practitioners, businesses, outcomes.

    An empty list means "any". Archived (deleted) appointments never count.
    """

    has: bool = True
    period: Period = field(default_factory=Period)
    appointment_type_ids: tuple[int, ...] = ()
    practitioner_ids: tuple[int, ...] = ()
    business_ids: tuple[int, ...] = ()
    outcomes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "has": self.has,
            "period": self.period.to_json(),
            "appointment_type_ids": list(self.appointment_type_ids),
            "practitioner_ids": list(self.practitioner_ids),
            "business_ids": list(self.business_ids),
            "outcomes": list(self.outcomes),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AppointmentCondition:
        """Read back what to_json wrote."""
        return cls(
            has=bool(data.get("has", True)),
            period=Period.from_json(data.get("period")),
            appointment_type_ids=_ints(data.get("appointment_type_ids")),
            practitioner_ids=_ints(data.get("practitioner_ids")),
            business_ids=_ints(data.get("business_ids")),
            outcomes=tuple(o for o in data.get("outcomes") or () if o in OUTCOMES),
        )


@dataclass(frozen=True)
class ContactConditions:
    """Conditions on the contact itself; empty lists and None mean "any"."""

    email_statuses: tuple[str, ...] = ()
    sms_statuses: tuple[str, ...] = ()
    has_email: bool | None = None
    has_phone: bool | None = None
    post_codes: tuple[str, ...] = ()
    suburbs: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "email_statuses": list(self.email_statuses),
            "sms_statuses": list(self.sms_statuses),
            "has_email": self.has_email,
            "has_phone": self.has_phone,
            "post_codes": list(self.post_codes),
            "suburbs": list(self.suburbs),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ContactConditions:
        """Read back what to_json wrote."""
        data = data or {}
        statuses = {s.value for s in MarketingStatus}
        return cls(
            email_statuses=tuple(s for s in data.get("email_statuses") or () if s in statuses),
            sms_statuses=tuple(s for s in data.get("sms_statuses") or () if s in statuses),
            has_email=data.get("has_email") if isinstance(data.get("has_email"), bool) else None,
            has_phone=data.get("has_phone") if isinstance(data.get("has_phone"), bool) else None,
            post_codes=tuple(str(p).strip() for p in data.get("post_codes") or () if str(p).strip()),
            suburbs=tuple(str(s).strip() for s in data.get("suburbs") or () if str(s).strip()),
        )


@dataclass(frozen=True)
class Audience:
    """Every condition of a campaign's audience, combined with AND."""

    appointments: tuple[AppointmentCondition, ...] = ()
    contact: ContactConditions = field(default_factory=ContactConditions)

    def to_json(self) -> dict[str, Any]:
        """What the campaign row stores."""
        return {"appointments": [c.to_json() for c in self.appointments], "contact": self.contact.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Audience:
        """Read back what to_json wrote (a missing or empty dict is "every contact")."""
        data = data or {}
        return cls(
            appointments=tuple(AppointmentCondition.from_json(c) for c in data.get("appointments") or ()),
            contact=ContactConditions.from_json(data.get("contact")),
        )


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _date_or_none(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def _ints(values: Any) -> tuple[int, ...]:
    return tuple(int(v) for v in values or () if str(v).lstrip("-").isdigit())


# --- SQL ------------------------------------------------------------------------------------------


def _outcome(appointment: Any, outcome: str) -> ColumnElement[bool]:
    # The same precedence as Appointment.outcome: cancelled, then did not arrive, then arrived.
    not_cancelled = appointment.cancelled_at.is_(None)
    if outcome == "cancelled":
        return appointment.cancelled_at.is_not(None)
    if outcome == "did_not_arrive":
        return and_(not_cancelled, appointment.did_not_arrive.is_(True))
    if outcome == "attended":
        return and_(
            not_cancelled, appointment.did_not_arrive.is_not(True), appointment.patient_arrived.is_(True)
        )
    return and_(
        not_cancelled, appointment.did_not_arrive.is_not(True), appointment.patient_arrived.is_not(True)
    )


def _inline(value: Any, type_: Any) -> Any:
    # Rendered into the SQL at execution (statement caching still applies): a prepared statement
    # may otherwise switch to a generic plan that cannot see how narrow a date range or list is.
    return bindparam(None, value, type_=type_, literal_execute=True)


def _inline_ids(ids: tuple[int, ...]) -> Any:
    return bindparam(None, list(ids), type_=Integer(), expanding=True, literal_execute=True)


def appointment_clause(condition: AppointmentCondition, now: datetime, zone: ZoneInfo) -> ColumnElement[bool]:
    """EXISTS (or NOT EXISTS) an appointment of the contact matching the condition."""
    appointment = aliased(Appointment)
    criteria: list[ColumnElement[bool]] = [
        appointment.contact_id == Contact.id,
        appointment.archived_at.is_(None),
    ]
    start, until = condition.period.bounds(now, zone)
    if start is not None:
        criteria.append(appointment.starts_at >= _inline(start, UTCDateTime()))
    if until is not None:
        criteria.append(appointment.starts_at < _inline(until, UTCDateTime()))
    if condition.appointment_type_ids:
        criteria.append(appointment.appointment_type_id.in_(_inline_ids(condition.appointment_type_ids)))
    if condition.practitioner_ids:
        criteria.append(appointment.practitioner_id.in_(_inline_ids(condition.practitioner_ids)))
    if condition.business_ids:
        criteria.append(appointment.business_id.in_(_inline_ids(condition.business_ids)))
    if condition.outcomes:
        criteria.append(or_(*(_outcome(appointment, o) for o in condition.outcomes)))
    found = select(literal(1)).select_from(appointment).where(*criteria).exists()
    return found if condition.has else ~found


def _present(column: Any) -> ColumnElement[bool]:
    return and_(column.is_not(None), func.trim(column) != "")


def contact_clauses(conditions: ContactConditions) -> list[ColumnElement[bool]]:
    """Predicates on the contact row."""
    clauses: list[ColumnElement[bool]] = []
    if conditions.email_statuses:
        clauses.append(Contact.email_marketing_status.in_(conditions.email_statuses))
    if conditions.sms_statuses:
        clauses.append(Contact.sms_marketing_status.in_(conditions.sms_statuses))
    if conditions.has_email is not None:
        clauses.append(_present(Contact.email) if conditions.has_email else ~_present(Contact.email))
    if conditions.has_phone is not None:
        clauses.append(_present(Contact.phone) if conditions.has_phone else ~_present(Contact.phone))
    if conditions.post_codes:
        clauses.append(func.trim(Contact.post_code).in_(conditions.post_codes))
    if conditions.suburbs:
        clauses.append(func.lower(func.trim(Contact.city)).in_([s.lower() for s in conditions.suburbs]))
    return clauses


def audience_clauses(audience: Audience, now: datetime, time_zone: str) -> list[ColumnElement[bool]]:
    """Every condition of the audience as WHERE clauses on contacts (ANDed by the caller)."""
    zone = ZoneInfo(time_zone)
    return [
        *(appointment_clause(c, now, zone) for c in audience.appointments),
        *contact_clauses(audience.contact),
    ]


def recipients_query(audience: Audience, channel: str, now: datetime, time_zone: str) -> Select[Any]:
    """SELECT contacts.id of everyone who would receive the campaign now."""
    return select(Contact.id).where(*audience_clauses(audience, now, time_zone), can_receive(channel))


@dataclass(frozen=True)
class Breakdown:
    """How many contacts match, and of those how many receive and why the others do not."""

    receive: int
    excluded: dict[str, int]

    @property
    def matched(self) -> int:
        """Every contact the conditions matched."""
        return self.receive + sum(self.excluded.values())

    @classmethod
    def of(cls, counts: dict[str, int]) -> Breakdown:
        """From counts per outcome name."""
        return cls(receive=counts.get(RECEIVE, 0), excluded={k: counts[k] for k in REASONS if counts.get(k)})


def breakdown(session: Session, audience: Audience, channel: str, now: datetime, time_zone: str) -> Breakdown:
    """Count matching contacts per outcome (receive or a reason) in one grouped query."""
    code = reason_expression(channel).label("code")
    rows = session.execute(
        select(code, func.count()).where(*audience_clauses(audience, now, time_zone)).group_by(code)
    ).all()
    return Breakdown.of({sql_codes(channel)[c]: n for c, n in rows})


@dataclass(frozen=True)
class SampleContact:
    """One contact of the sample, with why they are in or out."""

    id: int
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    reason: str

    @property
    def full_name(self) -> str:
        """First and last name, or a placeholder."""
        return " ".join(p for p in (self.first_name, self.last_name) if p) or "(no name)"


def count_and_sample(
    session: Session,
    audience: Audience,
    channel: str,
    now: datetime,
    time_zone: str,
    *,
    per_group: int = 5,
) -> tuple[Breakdown, list[SampleContact]]:
    """The counts per outcome and up to `per_group` contacts of each, in ONE query (the editor's live count).

    Each matching contact is ranked within its outcome (by id) and carries its outcome's total;
    only the first few of each outcome come back, and every outcome with anyone has a first.
    """
    code = reason_expression(channel).label("code")
    ranked = (
        select(
            Contact.id.label("contact_id"),
            code,
            func.row_number().over(partition_by=code, order_by=Contact.id).label("n"),
            func.count().over(partition_by=code).label("total"),
        )
        .where(*audience_clauses(audience, now, time_zone))
        .subquery()
    )
    rows = session.execute(
        select(
            ranked.c.code,
            ranked.c.total,
            Contact.id,
            Contact.first_name,
            Contact.last_name,
            Contact.email,
            Contact.phone,
        )
        .join(Contact, Contact.id == ranked.c.contact_id)
        .where(ranked.c.n <= per_group)
        .order_by(ranked.c.code, ranked.c.n)
    ).all()
    totals = {sql_codes(channel)[c]: total for c, total, *_ in rows}
    people = [
        SampleContact(cid, first or "", last or "", email, phone, sql_codes(channel)[c])
        for c, _total, cid, first, last, email, phone in rows
    ]
    return Breakdown.of(totals), people


# --- Words ----------------------------------------------------------------------------------------


def describe_period(period: Period) -> str:
    """A period in words, e.g. "in the last 180 days"."""
    if period.kind in ("last_days", "next_days"):
        word = "last" if period.kind == "last_days" else "next"
        return f"in the {word} {period.days} day{'s' if period.days != 1 else ''}"
    if period.kind == "between" and period.start and period.end:
        return f"between {_day(period.start)} and {_day(period.end)}"
    if period.kind == "since" and period.start:
        return f"since {_day(period.start)}"
    if period.kind == "before" and period.start:
        return f"before {_day(period.start)}"
    return "at any time"


def _day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def describe(audience: Audience, names: dict[str, dict[int, str]]) -> list[str]:
    """Each condition as a sentence; `names` maps "types", "practitioners", "businesses" to id -> name."""
    lines = []
    for condition in audience.appointments:
        parts = [("Has" if condition.has else "Has no") + " appointment " + describe_period(condition.period)]
        for key, ids, word in (
            ("practitioners", condition.practitioner_ids, "with"),
            ("types", condition.appointment_type_ids, "of type"),
            ("businesses", condition.business_ids, "at"),
        ):
            if ids:
                parts.append(f"{word} " + " or ".join(names.get(key, {}).get(i, f"#{i}") for i in ids))
        if condition.outcomes:
            parts.append("that was " + " or ".join(OUTCOMES[o] for o in condition.outcomes))
        lines.append(" ".join(parts))
    contact = audience.contact
    for label, statuses in (("E-mail status", contact.email_statuses), ("SMS status", contact.sms_statuses)):
        if statuses:
            lines.append(f"{label} is " + " or ".join(s.capitalize() for s in statuses))
    for label, flag in (("an e-mail address", contact.has_email), ("a phone number", contact.has_phone)):
        if flag is not None:
            lines.append(("Has " if flag else "Has no ") + label)
    if contact.post_codes:
        lines.append("Postcode is " + ", ".join(contact.post_codes))
    if contact.suburbs:
        lines.append("Suburb is " + ", ".join(contact.suburbs))
    return lines or ["Every contact"]
